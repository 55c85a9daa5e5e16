// libFuzzer target: the recipe parser (packer/recipe.*), from YAML text to a checked Recipe.
//
// Input: the recipe's text. An exception escaping parse_recipe() (yaml-cpp's are caught inside, all
// others would end havre-pack) aborts, and so does a crash in the checks behind it (regexes, paths,
// numbers). An accepted recipe's strings then go into a manifest the way havre-pack writes one, which
// must serialize.
#include <cstddef>
#include <cstdint>
#include <string>

#include "format/manifest.h"
#include "fuzz_util.h"
#include "recipe.h"

namespace {

using namespace havre;

// The manifest havre-pack would write for the recipe (packer/pack.cpp, make_manifest).
manifest::Manifest manifest_of(const pack::Recipe& r) {
  manifest::Manifest m = r.manifest;
  m.build.bases = {{r.base.manifest_kind, r.base.source, r.base.sha256}};
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // A path that does not exist: relative paths in the recipe resolve against it without touching
  // anything real.
  auto recipe = pack::parse_recipe(text, "/nonexistent/havre-fuzz/recipe.yaml");
  if (!recipe) {
    HAVRE_FUZZ_CHECK(!recipe.error().message().empty());
    return 0;
  }
  HAVRE_FUZZ_CHECK(recipe->squashfs.block_size >= 4096 && recipe->squashfs.block_size <= (1u << 20));
  for (const pack::FileSpec& f : recipe->files) HAVRE_FUZZ_CHECK(!f.dst.empty() && f.dst[0] == '/');
  auto parsed = manifest::from_json(manifest::to_json(manifest_of(*recipe)));
  HAVRE_FUZZ_CHECK(parsed);
  return 0;
}
