#include "fakeroot_db.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace havre::pack {
namespace {

struct stat lstat_of(const std::string& path) {
  struct stat st {};
  REQUIRE_MESSAGE(::lstat(path.c_str(), &st) == 0, "lstat " << path);
  return st;
}

std::string expected_line(const std::string& path, unsigned mode, unsigned uid, unsigned gid,
                          unsigned long rdev) {
  const struct stat st = lstat_of(path);
  char line[256];
  std::snprintf(line, sizeof line, "dev=%llx,ino=%llu,mode=%o,uid=%u,gid=%u,nlink=%llu,rdev=%lu\n",
                static_cast<unsigned long long>(st.st_dev), static_cast<unsigned long long>(st.st_ino), mode,
                uid, gid, static_cast<unsigned long long>(st.st_nlink), rdev);
  return line;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line + "\n");
  return out;
}

bool has(const std::vector<std::string>& lines, const std::string& line) {
  for (const std::string& l : lines)
    if (l == line) return true;
  return false;
}

}  // namespace

TEST_CASE("fakeroot_db: render writes fakeroot's save format, one line per inode") {
  auto dir = test::temp_dir();
  const std::string root = dir.path();
  REQUIRE(::mkdir((root + "/bin").c_str(), 0755) == 0);
  REQUIRE(::mkdir((root + "/dev").c_str(), 0755) == 0);
  test::write_file(root + "/bin/su", "su");
  REQUIRE(::link((root + "/bin/su").c_str(), (root + "/bin/su2").c_str()) == 0);
  test::write_file(root + "/dev/null", "");
  REQUIRE(::symlink("su", (root + "/bin/sh").c_str()) == 0);

  FakerootDb db;
  CHECK(db.empty());
  db.set("", NodeAttrs{040700, 0, 0, 0, 0});
  db.set("bin", NodeAttrs{});
  db.set("bin/su", NodeAttrs{0104755, 0, 0, 0, 0});
  db.set("bin/su2", NodeAttrs{0104755, 0, 0, 0, 0});
  db.set("bin/sh", NodeAttrs{0120777, 0, 0, 0, 0});
  db.set("dev", NodeAttrs{040755, 0, 0, 0, 0});
  db.set("dev/null", NodeAttrs{020666, 0, 5, 1, 3});
  CHECK_FALSE(db.empty());
  CHECK(db.contains("bin/su2"));
  CHECK_FALSE(db.contains("bin/su3"));

  auto text = db.render(root);
  REQUIRE_MESSAGE(text, text.error().message());
  const std::vector<std::string> lines = lines_of(*text);
  CAPTURE(*text);
  // 7 paths, but bin/su and bin/su2 are one inode.
  CHECK(lines.size() == 6);
  CHECK(text->back() == '\n');

  CHECK(has(lines, expected_line(root, 040700, 0, 0, 0)));
  CHECK(has(lines, expected_line(root + "/bin", 040755, 0, 0, 0)));
  CHECK(has(lines, expected_line(root + "/bin/su", 0104755, 0, 0, 0)));
  CHECK(has(lines, expected_line(root + "/bin/sh", 0120777, 0, 0, 0)));
  CHECK(has(lines, expected_line(root + "/dev", 040755, 0, 0, 0)));
  CHECK(has(lines, expected_line(root + "/dev/null", 020666, 0, 5, makedev(1, 3))));
  CHECK(makedev(1, 3) == 259);
  CHECK(text->find("mode=20666,uid=0,gid=5,nlink=1,rdev=259\n") != std::string::npos);
  CHECK(text->find("mode=104755,uid=0,gid=0,nlink=2,rdev=0\n") != std::string::npos);

  SUBCASE("lines are ordered by (dev, ino)") {
    std::vector<std::pair<unsigned long long, unsigned long long>> keys;
    for (const std::string& l : lines) {
      unsigned long long dev = 0, ino = 0;
      REQUIRE(std::sscanf(l.c_str(), "dev=%llx,ino=%llu,", &dev, &ino) == 2);
      keys.emplace_back(dev, ino);
    }
    CHECK(std::is_sorted(keys.begin(), keys.end()));
  }
  SUBCASE("a large device number") {
    db.set("dev/null", NodeAttrs{060660, 0, 6, 259, 70000});
    auto again = db.render(root);
    REQUIRE_MESSAGE(again, again.error().message());
    CHECK(again->find(",rdev=" + std::to_string(makedev(259, 70000)) + "\n") != std::string::npos);
  }
  SUBCASE("a recorded path that is missing on disk") {
    db.set("gone", NodeAttrs{});
    auto again = db.render(root);
    REQUIRE_FALSE(again);
    CHECK(again.error().message() == "stat " + root + "/gone: No such file or directory");
  }
}

TEST_CASE("fakeroot_db: fakeroot -i reads the rendered state") {
  auto dir = test::temp_dir();
  const std::string root = dir.path() + "/root";
  REQUIRE(::mkdir(root.c_str(), 0755) == 0);
  REQUIRE(::mkdir((root + "/dev").c_str(), 0755) == 0);
  test::write_file(root + "/dev/null", "");
  test::write_file(root + "/su", "su");

  FakerootDb db;
  db.set("dev", NodeAttrs{});
  db.set("dev/null", NodeAttrs{020666, 0, 5, 1, 3});
  db.set("su", NodeAttrs{0104755, 12, 34, 0, 0});
  auto text = db.render(root);
  REQUIRE_MESSAGE(text, text.error().message());
  const std::string state = dir.path() + "/fakeroot.db";
  test::write_file(state, *text);

  std::string out;
  const int status = test::run(
      {"fakeroot", "-i", state, "--", "stat", "-c", "%F %a %u %g %t:%T", root + "/dev/null", root + "/su"},
      &out);
  REQUIRE(status == 0);
  CHECK(out ==
        "character special file 666 0 5 1:3\n"
        "regular file 4755 12 34 0:0\n");
}

}  // namespace havre::pack
