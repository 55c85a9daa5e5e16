#include "summary.h"

#include <fcntl.h>

#include <nlohmann/json.hpp>

#include "base/io.h"
#include "base/sha256.h"
#include "base/unique_fd.h"
#include "version.h"

namespace havre::pack {

namespace {

const char* epoch_source(BuildEpoch::Source source) {
  switch (source) {
    case BuildEpoch::Source::kEnvironment:
      return "environment";
    case BuildEpoch::Source::kRecipe:
      return "recipe";
    case BuildEpoch::Source::kBase:
      break;
  }
  return "base";
}

}  // namespace

Result<std::string> summary_json(const PackResult& result) {
  using nlohmann::json;
  auto fd = open_fd(result.output, O_RDONLY);
  if (!fd) return fd.error();
  auto size = file_size(fd->get(), result.output);
  if (!size) return size.error();
  auto digest = sha256_fd_range(fd->get(), 0, *size, result.output);
  if (!digest) return digest.error();

  json bases = json::array();
  for (const manifest::Base& b : result.bases)
    bases.push_back({{"kind", b.kind}, {"source", b.source}, {"sha256", b.sha256}});
  const footer::Footer& f = result.footer;
  const json doc = {
      {"output", result.output},
      {"size", *size},
      {"sha256", to_hex(*digest)},
      {"image",
       {{"offset", f.image_offset},
        {"size", f.image_size},
        {"sha256", to_hex(f.image_sha256)},
        {"from_cache", result.image_from_cache}}},
      {"manifest",
       {{"offset", f.manifest_offset}, {"size", f.manifest_size}, {"sha256", to_hex(f.manifest_sha256)}}},
      {"bases", bases},
      {"source_date_epoch", {{"seconds", result.epoch.seconds}, {"from", epoch_source(result.epoch.source)}}},
      {"havre_version", kVersion},
      {"signature", result.signature_key_id.empty()
                        ? json(nullptr)
                        : json{{"algorithm", "ed25519"}, {"key_id", result.signature_key_id}}},
  };
  return doc.dump(2) + "\n";
}

}  // namespace havre::pack
