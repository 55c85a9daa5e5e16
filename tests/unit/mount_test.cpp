// ensure_mountpoint (creates what is missing, never through a symlink) and id_map_line.
#include <doctest/doctest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "container/mount.h"
#include "container/namespaces.h"
#include "test_util.h"

namespace havre::runtime {
namespace {

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool is_file(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

TEST_CASE("ensure_mountpoint creates missing directories, or an empty file as the last component") {
  auto dir = test::temp_dir();
  const std::string root = dir.path();
  REQUIRE(ensure_mountpoint(root, "/a/b//c", false));
  CHECK(is_dir(root + "/a/b/c"));
  REQUIRE(ensure_mountpoint(root, "/a/b/c", false));  // already there
  REQUIRE(ensure_mountpoint(root, "/etc/hosts", true));
  CHECK(is_file(root + "/etc/hosts"));
  REQUIRE(ensure_mountpoint(root, "/etc/hosts", true));
}

TEST_CASE("ensure_mountpoint refuses a symlink anywhere on the way, and a file as a directory") {
  auto dir = test::temp_dir();
  const std::string root = dir.path();
  REQUIRE(::symlink("/tmp", (root + "/link").c_str()) == 0);
  auto bad = ensure_mountpoint(root, "/link/x", false);
  REQUIRE(!bad);
  CHECK(bad.error().message().find("symlink") != std::string::npos);
  CHECK(!ensure_mountpoint(root, "/link", true));
  test::write_file(root + "/file", "x");
  bad = ensure_mountpoint(root, "/file/sub", false);
  REQUIRE(!bad);
  CHECK(bad.error().message().find("not a directory") != std::string::npos);
  CHECK(is_symlink(root, "/link"));
  CHECK(!is_symlink(root, "/file"));
}

TEST_CASE("id_map_line: one id, a range of one") {
  CHECK(id_map_line(0, 1000) == "0 1000 1\n");
  CHECK(id_map_line(4294967294u, 0) == "4294967294 0 1\n");
}

}  // namespace
}  // namespace havre::runtime

TEST_CASE("mount_flags_from_statvfs keeps every flag a remount must not clear") {
  using havre::runtime::mount_flags_from_statvfs;
  CHECK(mount_flags_from_statvfs(0) == 0);
  CHECK(mount_flags_from_statvfs(ST_NOSUID | ST_NODEV | ST_NOEXEC) == (MS_NOSUID | MS_NODEV | MS_NOEXEC));
  CHECK(mount_flags_from_statvfs(ST_RDONLY | ST_RELATIME) == (MS_RDONLY | MS_RELATIME));
  CHECK(mount_flags_from_statvfs(ST_NOATIME | ST_NODIRATIME) == (MS_NOATIME | MS_NODIRATIME));
}
