#include "image_cache.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "test_util.h"

namespace havre::pack {
namespace {

const std::string kBase(64, 'b');

std::string key_of(const Recipe& r, const BuildEpoch& epoch = {}) {
  auto k = image_cache_key(r, kBase, epoch);
  REQUIRE_MESSAGE(k, k.error().message());
  return *k;
}

}  // namespace

TEST_CASE("image_cache_key: every input of the image changes it, manifest-only fields do not") {
  auto dir = test::temp_dir();
  const std::string src = dir.path() + "/data.txt";
  test::write_file(src, "one\n");
  Recipe r;
  r.base.kind = BaseSpec::Kind::kTarball;
  r.files.push_back(FileSpec{src, "/etc/data.txt", std::nullopt, std::nullopt, std::nullopt, 3});
  const std::string base_key = key_of(r);
  CHECK(base_key.size() == 64);
  CHECK(key_of(r) == base_key);  // deterministic

  SUBCASE("the base's digest") {
    auto other = image_cache_key(r, std::string(64, 'c'), {});
    REQUIRE(other);
    CHECK(*other != base_key);
  }
  SUBCASE("a files source's contents, but not its time") {
    ::utimensat(AT_FDCWD, src.c_str(), nullptr, 0);
    CHECK(key_of(r) == base_key);
    test::write_file(src, "two\n");
    CHECK(key_of(r) != base_key);
  }
  SUBCASE("a files source's mode, and an entry's mode, owner, destination") {
    ::chmod(src.c_str(), 0600);
    CHECK(key_of(r) != base_key);
    ::chmod(src.c_str(), 0644);
    Recipe m = r;
    m.files[0].mode = 0755;
    CHECK(key_of(m) != key_of(r));
    m = r;
    m.files[0].uid = 1;
    m.files[0].gid = 1;
    CHECK(key_of(m) != key_of(r));
    m = r;
    m.files[0].dst = "/etc/other.txt";
    CHECK(key_of(m) != key_of(r));
  }
  SUBCASE("run steps, exclude, env, SquashFS options, a chosen epoch") {
    const std::string plain = key_of(r);
    Recipe m = r;
    m.run = {"true"};
    const std::string with_step = key_of(m);
    CHECK(with_step != plain);
    m.manifest.name = "other";  // the steps' hostname
    CHECK(key_of(m) != with_step);
    m = r;
    m.exclude = {"/etc/motd"};
    CHECK(key_of(m) != plain);
    m = r;
    m.manifest.env = {{"A", "1"}};
    CHECK(key_of(m) != plain);
    m = r;
    m.squashfs.compression = "xz";
    CHECK(key_of(m) != plain);
    m = r;
    m.squashfs.block_size = 1 << 20;
    CHECK(key_of(m) != plain);
    m = r;
    m.squashfs.level = 3;
    CHECK(key_of(m) != plain);
    BuildEpoch chosen{BuildEpoch::Source::kRecipe, 1000};
    CHECK(key_of(r, chosen) != plain);
    BuildEpoch later{BuildEpoch::Source::kEnvironment, 1001};
    CHECK(key_of(r, later) != key_of(r, chosen));
  }
  SUBCASE("what only the manifest holds") {
    Recipe m = r;
    m.manifest.cmd = {"/bin/true"};
    m.manifest.entrypoint = {"/bin/sh"};
    m.manifest.labels = {{"a", "b"}};
    m.manifest.workdir = "/srv";
    m.manifest.name = "renamed";  // no run steps: the name reaches nothing in the image
    CHECK(key_of(m) == base_key);
  }
  SUBCASE("a directory base cannot be keyed") {
    Recipe d = r;
    d.base.kind = BaseSpec::Kind::kDirectory;
    CHECK(key_of(d).empty());
    auto no_digest = image_cache_key(r, "", {});
    REQUIRE(no_digest);
    CHECK(no_digest->empty());
  }
  SUBCASE("a files source that is gone is an error naming it") {
    ::unlink(src.c_str());
    auto k = image_cache_key(r, kBase, {});
    REQUIRE_FALSE(k);
    CHECK(k.error().message().find(src) != std::string::npos);
  }
}

}  // namespace havre::pack
