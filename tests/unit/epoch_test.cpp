#include "epoch.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

namespace havre::pack {
namespace {

void set_mtime(const std::string& path, time_t seconds) {
  const struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

}  // namespace

TEST_CASE("epoch: parse_epoch") {
  CHECK(*parse_epoch("0") == 0u);
  CHECK(*parse_epoch("1700000000") == 1700000000u);
  CHECK(*parse_epoch("4294967295") == 4294967295u);
  CHECK(parse_epoch("4294967296").error().message() ==
        "'4294967296' is past 2106, the last time SquashFS can store");
  for (const char* bad : {"", "-1", "+5", " 1", "1.5", "1e9", "12345678901", "now"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_epoch(bad));
  }
}

TEST_CASE("epoch: SOURCE_DATE_EPOCH, then the recipe, then the base") {
  auto env = choose_epoch("1800000000", 1700000000u);
  REQUIRE(env);
  CHECK(env->source == BuildEpoch::Source::kEnvironment);
  CHECK(env->seconds == 1800000000u);
  CHECK(env->chosen());

  auto recipe = choose_epoch("", 1700000000u);
  REQUIRE(recipe);
  CHECK(recipe->source == BuildEpoch::Source::kRecipe);
  CHECK(recipe->seconds == 1700000000u);
  CHECK(recipe->chosen());

  auto base = choose_epoch(nullptr, std::nullopt);
  REQUIRE(base);
  CHECK(base->source == BuildEpoch::Source::kBase);
  CHECK_FALSE(base->chosen());

  // A malformed variable is an error, never silently the clock or the recipe's value.
  auto bad = choose_epoch("yesterday", 1700000000u);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message() == "SOURCE_DATE_EPOCH: 'yesterday' is not a number of seconds since 1970");
}

TEST_CASE("epoch: clamp_time and rfc3339_utc") {
  CHECK(clamp_time(-5) == 0u);
  CHECK(clamp_time(1700000000) == 1700000000u);
  CHECK(clamp_time(1LL << 40) == 4294967295u);
  CHECK(rfc3339_utc(0) == "1970-01-01T00:00:00Z");
  CHECK(rfc3339_utc(1700000000) == "2023-11-14T22:13:20Z");
}

TEST_CASE("epoch: newest_mtime walks the tree and reads symlinks' own times") {
  auto dir = test::temp_dir();
  const std::string root = dir.path();
  REQUIRE(::mkdir((root + "/sub").c_str(), 0755) == 0);
  test::write_file(root + "/sub/file", "x");
  REQUIRE(::symlink("/nonexistent-target", (root + "/link").c_str()) == 0);
  set_mtime(root + "/sub/file", 1600000000);
  set_mtime(root + "/link", 1650000000);
  set_mtime(root + "/sub", 1500000000);
  set_mtime(root, 1400000000);
  CHECK(*newest_mtime(root) == 1650000000u);
  set_mtime(root + "/sub/file", 1700000000);
  CHECK(*newest_mtime(root) == 1700000000u);
  CHECK_FALSE(newest_mtime(root + "/missing"));
}

}  // namespace havre::pack
