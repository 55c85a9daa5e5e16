#include "tarball.h"

#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "test_util.h"

namespace havre::pack {
namespace {

namespace fs = std::filesystem;

enum class Filter { kNone, kGzip, kBzip2, kXz, kZstd };

// Writes a tar archive entry by entry with libarchive, as a hostile or unusual producer might.
class TarWriter {
 public:
  TarWriter(const std::string& path, Filter filter = Filter::kGzip)
      : a_(archive_write_new(), archive_write_free) {
    REQUIRE(archive_write_set_format_pax_restricted(a_.get()) == ARCHIVE_OK);
    int r = ARCHIVE_OK;
    switch (filter) {
      case Filter::kNone:
        r = archive_write_add_filter_none(a_.get());
        break;
      case Filter::kGzip:
        r = archive_write_add_filter_gzip(a_.get());
        break;
      case Filter::kBzip2:
        r = archive_write_add_filter_bzip2(a_.get());
        break;
      case Filter::kXz:
        r = archive_write_add_filter_xz(a_.get());
        break;
      case Filter::kZstd:
        r = archive_write_add_filter_zstd(a_.get());
        break;
    }
    REQUIRE_MESSAGE(r == ARCHIVE_OK, archive_error_string(a_.get()));
    REQUIRE_MESSAGE(archive_write_open_filename(a_.get(), path.c_str()) == ARCHIVE_OK,
                    archive_error_string(a_.get()));
  }

  TarWriter& dir(const std::string& name, unsigned mode = 0755, unsigned uid = 0) {
    return add(name, AE_IFDIR, mode, uid, 0, {});
  }
  TarWriter& file(const std::string& name, const std::string& content, unsigned mode = 0644, unsigned uid = 0,
                  unsigned gid = 0) {
    return add(name, AE_IFREG, mode, uid, gid, content);
  }
  TarWriter& symlink(const std::string& name, const std::string& target) {
    return add(name, AE_IFLNK, 0777, 0, 0, {},
               [&](archive_entry* e) { archive_entry_set_symlink(e, target.c_str()); });
  }
  TarWriter& hardlink(const std::string& name, const std::string& target) {
    return add(name, AE_IFREG, 0644, 0, 0, {},
               [&](archive_entry* e) { archive_entry_set_hardlink(e, target.c_str()); });
  }
  TarWriter& device(const std::string& name, unsigned type, unsigned major, unsigned minor, unsigned mode) {
    return add(name, type, mode, 0, 0, {}, [&](archive_entry* e) {
      archive_entry_set_rdevmajor(e, major);
      archive_entry_set_rdevminor(e, minor);
    });
  }
  TarWriter& fifo(const std::string& name, unsigned mode = 0644) {
    return add(name, AE_IFIFO, mode, 0, 0, {});
  }

  void close() {
    REQUIRE_MESSAGE(archive_write_close(a_.get()) == ARCHIVE_OK, archive_error_string(a_.get()));
  }

 private:
  template <typename Extra = void (*)(archive_entry*)>
  TarWriter& add(
      const std::string& name, unsigned type, unsigned mode, unsigned uid, unsigned gid,
      const std::string& content, Extra extra = [](archive_entry*) {}) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), type);
    archive_entry_set_perm(e.get(), mode);
    archive_entry_set_uid(e.get(), uid);
    archive_entry_set_gid(e.get(), gid);
    archive_entry_set_mtime(e.get(), 1700000000, 0);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(content.size()));
    extra(e.get());
    REQUIRE_MESSAGE(archive_write_header(a_.get(), e.get()) == ARCHIVE_OK, archive_error_string(a_.get()));
    if (!content.empty())
      REQUIRE(archive_write_data(a_.get(), content.data(), content.size()) ==
              static_cast<la_ssize_t>(content.size()));
    return *this;
  }

  std::unique_ptr<archive, decltype(&archive_write_free)> a_;
};

struct Fixture {
  TempDir work = test::temp_dir();
  std::string tarball = work.path() + "/rootfs.tar";
  std::string root = work.path() + "/root";
  Fixture() { REQUIRE(::mkdir(root.c_str(), 0755) == 0); }

  Result<StagedTree> extract() { return extract_tarball(tarball, root); }
  std::string refusal() {
    auto tree = extract();
    REQUIRE_FALSE(tree);
    return tree.error().message();
  }
};

struct stat lstat_of(const std::string& path) {
  struct stat st {};
  REQUIRE_MESSAGE(::lstat(path.c_str(), &st) == 0, "lstat " << path);
  return st;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("tarball: normalize_entry_name") {
  auto normalized = [](const std::string& name) {
    auto out = normalize_entry_name(name);
    if (!out) FAIL(name << ": " << out.error().message());
    return *out;
  };
  auto refusal = [](const std::string& name) {
    auto out = normalize_entry_name(name);
    REQUIRE_FALSE(out);
    return out.error().message();
  };
  CHECK(normalized("./a//b/") == "a/b");
  CHECK(normalized(".") == "");
  CHECK(normalized("./") == "");
  CHECK(normalized("") == "");
  CHECK(normalized("a") == "a");
  CHECK(normalized("a/./b/.") == "a/b");
  CHECK(normalized("..a/b..") == "..a/b..");
  CHECK(normalized("a/.../b") == "a/.../b");
  CHECK(refusal("/etc") == "absolute path");
  CHECK(refusal("/") == "absolute path");
  CHECK(refusal("a/../b") == "path contains '..'");
  CHECK(refusal("..") == "path contains '..'");
  CHECK(refusal("./../x") == "path contains '..'");
  CHECK(refusal("a/..") == "path contains '..'");
  CHECK(refusal("a\nb") == "name contains a newline");
}

TEST_CASE("tarball: extraction stages every kind of entry and records its attributes") {
  Fixture f;
  {
    TarWriter w(f.tarball);
    w.dir("./", 0700, 0)
        .dir("./bin/", 0755)
        .file("./bin/su", "#!/bin/sh\n", 04755, 0, 0)
        .hardlink("./bin/su2", "./bin/su")
        .symlink("./bin/sh", "busybox")
        .dir("./dev/", 0755)
        .device("./dev/null", AE_IFCHR, 1, 3, 0666)
        .device("./dev/loop0", AE_IFBLK, 7, 0, 0660)
        .fifo("./run/initctl", 0600)
        .dir("./home/user/", 0700, 1000)
        .file("./home/user/.profile", "export A=1\n", 0600, 1000, 1000)
        .file("etc/deep/nested/file", "x", 0640, 0, 42);
    w.close();
  }
  char cwd_before[4096];
  REQUIRE(::getcwd(cwd_before, sizeof cwd_before) != nullptr);
  auto tree = f.extract();
  REQUIRE_MESSAGE(tree, tree.error().message());
  char cwd_after[4096];
  REQUIRE(::getcwd(cwd_after, sizeof cwd_after) != nullptr);
  CHECK(std::string(cwd_after) == cwd_before);  // the chdir into the staging dir is undone
  CHECK(tree->dir == f.root);
  const FakerootDb& db = tree->db;

  SUBCASE("directories") {
    CHECK(fs::is_directory(f.root + "/bin"));
    CHECK(fs::is_directory(f.root + "/home/user"));
    // On disk, directories are 0755 so an unprivileged mksquashfs can read them; the db keeps 0700.
    CHECK((lstat_of(f.root + "/home/user").st_mode & 07777) == 0755);
    REQUIRE(db.find("home/user") != nullptr);
    CHECK(db.find("home/user")->mode == (S_IFDIR | 0700));
    CHECK(db.find("home/user")->uid == 1000);
    REQUIRE(db.find("") != nullptr);
    CHECK(db.find("")->mode == (S_IFDIR | 0700));
  }
  SUBCASE("a setuid file owned by root") {
    CHECK(test::read_file(f.root + "/bin/su") == "#!/bin/sh\n");
    const struct stat st = lstat_of(f.root + "/bin/su");
    CHECK(S_ISREG(st.st_mode));
    CHECK((st.st_mode & 07777) == 0644);  // no setuid bit on the staged file
    const NodeAttrs* a = db.find("bin/su");
    REQUIRE(a != nullptr);
    CHECK(a->mode == 0104755);
    CHECK(a->uid == 0);
    CHECK(a->gid == 0);
  }
  SUBCASE("a hard link shares the inode and the attributes") {
    const struct stat a = lstat_of(f.root + "/bin/su");
    const struct stat b = lstat_of(f.root + "/bin/su2");
    CHECK(a.st_ino == b.st_ino);
    CHECK(a.st_nlink == 2);
    const NodeAttrs* link = db.find("bin/su2");
    REQUIRE(link != nullptr);
    CHECK(link->mode == 0104755);
    CHECK(link->uid == 0);
  }
  SUBCASE("a symlink") {
    CHECK(fs::is_symlink(f.root + "/bin/sh"));
    CHECK(fs::read_symlink(f.root + "/bin/sh") == "busybox");
    REQUIRE(db.find("bin/sh") != nullptr);
    CHECK((db.find("bin/sh")->mode & S_IFMT) == S_IFLNK);
  }
  SUBCASE("a char device is staged as an empty regular file") {
    const struct stat st = lstat_of(f.root + "/dev/null");
    CHECK(S_ISREG(st.st_mode));
    CHECK(st.st_size == 0);
    const NodeAttrs* a = db.find("dev/null");
    REQUIRE(a != nullptr);
    CHECK(a->mode == (020000 | 0666));
    CHECK(a->mode == (S_IFCHR | 0666));
    CHECK(a->rdev_major == 1);
    CHECK(a->rdev_minor == 3);
  }
  SUBCASE("a block device") {
    CHECK(S_ISREG(lstat_of(f.root + "/dev/loop0").st_mode));
    const NodeAttrs* a = db.find("dev/loop0");
    REQUIRE(a != nullptr);
    CHECK(a->mode == (S_IFBLK | 0660));
    CHECK(a->rdev_major == 7);
    CHECK(a->rdev_minor == 0);
  }
  SUBCASE("a fifo is staged as an empty regular file") {
    const struct stat st = lstat_of(f.root + "/run/initctl");
    CHECK(S_ISREG(st.st_mode));
    CHECK(st.st_size == 0);
    const NodeAttrs* a = db.find("run/initctl");
    REQUIRE(a != nullptr);
    CHECK(a->mode == (S_IFIFO | 0600));
  }
  SUBCASE("owner and group ids") {
    const NodeAttrs* a = db.find("home/user/.profile");
    REQUIRE(a != nullptr);
    CHECK(a->uid == 1000);
    CHECK(a->gid == 1000);
    CHECK(a->mode == (S_IFREG | 0600));
    CHECK((lstat_of(f.root + "/home/user/.profile").st_mode & 0400) != 0);  // readable by the packer
  }
  SUBCASE("directories implied by names get root's defaults") {
    for (const char* p : {"run", "etc", "etc/deep", "etc/deep/nested"}) {
      CAPTURE(p);
      const NodeAttrs* a = db.find(p);
      REQUIRE(a != nullptr);
      CHECK(a->mode == 040755);
      CHECK(a->uid == 0);
      CHECK(a->gid == 0);
    }
    REQUIRE(db.find("etc/deep/nested/file") != nullptr);
    CHECK(db.find("etc/deep/nested/file")->gid == 42);
    CHECK(test::read_file(f.root + "/etc/deep/nested/file") == "x");
  }
  SUBCASE("the root's mtime comes from the archive") { CHECK(lstat_of(f.root).st_mtime == 1700000000); }
  SUBCASE("nothing else is recorded") {
    CHECK_FALSE(db.contains("./bin/su"));
    CHECK_FALSE(db.contains("bin/su/"));
    CHECK_FALSE(db.contains("nope"));
  }
}

TEST_CASE("tarball: as root, attributes and special files land on disk exactly") {
  if (::geteuid() != 0) {
    const char* ci = std::getenv("CI");
    REQUIRE_MESSAGE((ci == nullptr || std::string(ci) != "true"), "CI=true: this test must run as root");
    MESSAGE("skipped: needs root to chown and mknod");
    return;
  }
  Fixture f;
  {
    TarWriter w(f.tarball);
    w.dir("./", 0750, 0)
        .file("./bin/su", "#!/bin/sh\n", 04755, 0, 0)
        .dir("./home/user/", 0700, 1000)
        .file("./home/user/.profile", "x\n", 0600, 1000, 1001)
        .device("./dev/null", AE_IFCHR, 1, 3, 0666)
        .fifo("./run/initctl", 0600);
    w.close();
  }
  auto tree = extract_tarball(f.tarball, f.root, Attributes::kOnDisk);
  REQUIRE_MESSAGE(tree, tree.error().message());
  CHECK(tree->db.empty());  // nothing for fakeroot to do
  CHECK((lstat_of(f.root).st_mode & 07777) == 0750);
  CHECK((lstat_of(f.root + "/bin/su").st_mode & 07777) == 04755);
  const struct stat home = lstat_of(f.root + "/home/user");
  CHECK((home.st_mode & 07777) == 0700);
  CHECK(home.st_uid == 1000);
  const struct stat profile = lstat_of(f.root + "/home/user/.profile");
  CHECK(profile.st_uid == 1000);
  CHECK(profile.st_gid == 1001);
  const struct stat null = lstat_of(f.root + "/dev/null");
  CHECK(S_ISCHR(null.st_mode));
  CHECK(null.st_rdev == makedev(1, 3));
  CHECK(S_ISFIFO(lstat_of(f.root + "/run/initctl").st_mode));
}

TEST_CASE("tarball: a root without a ./ entry gets default attributes") {
  Fixture f;
  {
    TarWriter w(f.tarball);
    w.file("a.txt", "a");
    w.close();
  }
  auto tree = f.extract();
  REQUIRE_MESSAGE(tree, tree.error().message());
  REQUIRE(tree->db.find("") != nullptr);
  CHECK(tree->db.find("")->mode == 040755);
  CHECK(tree->db.find("")->uid == 0);
}

TEST_CASE("tarball: hostile archives are refused with the entry's name") {
  Fixture f;
  const std::string outside = f.work.path() + "/outside";
  REQUIRE(::mkdir(outside.c_str(), 0755) == 0);

  SUBCASE("../escape") {
    {
      TarWriter w(f.tarball);
      w.file("ok", "1").file("../escape", "evil");
      w.close();
    }
    const std::string msg = f.refusal();
    CHECK(msg == f.tarball + ": entry '../escape' refused: path contains '..'");
    CHECK_FALSE(fs::exists(f.work.path() + "/escape"));
  }
  SUBCASE("a .. in the middle") {
    {
      TarWriter w(f.tarball);
      w.file("a/../../escape", "evil");
      w.close();
    }
    CHECK(f.refusal() == f.tarball + ": entry 'a/../../escape' refused: path contains '..'");
    CHECK_FALSE(fs::exists(f.work.path() + "/escape"));
  }
  SUBCASE("an absolute name") {
    {
      TarWriter w(f.tarball);
      w.file("/abs", "evil");
      w.close();
    }
    CHECK(f.refusal() == f.tarball + ": entry '/abs' refused: absolute path");
  }
  SUBCASE("a file written through a symlink") {
    {
      TarWriter w(f.tarball);
      w.symlink("ln", outside).file("ln/x", "evil");
      w.close();
    }
    const std::string msg = f.refusal();
    CHECK(contains(msg, "entry 'ln/x' refused"));
    CHECK(contains(msg, f.tarball));
    CHECK_FALSE(fs::exists(outside + "/x"));
  }
  SUBCASE("a file written through a relative symlink") {
    {
      TarWriter w(f.tarball);
      w.symlink("up", "..").file("up/escape", "evil");
      w.close();
    }
    CHECK(contains(f.refusal(), "entry 'up/escape' refused"));
    CHECK_FALSE(fs::exists(f.work.path() + "/escape"));
  }
  SUBCASE("a directory written through a symlink") {
    {
      TarWriter w(f.tarball);
      w.symlink("ln", outside).dir("ln/sub/");
      w.close();
    }
    CHECK(contains(f.refusal(), "entry 'ln/sub/' refused"));
    CHECK_FALSE(fs::exists(outside + "/sub"));
  }
  SUBCASE("a hard link to a name not in the archive") {
    {
      TarWriter w(f.tarball);
      w.file("a", "1").hardlink("passwd", "etc/shadow");
      w.close();
    }
    CHECK(f.refusal() ==
          f.tarball +
              ": entry 'passwd' refused: hard link to 'etc/shadow', which is not in the archive before it");
  }
  SUBCASE("a hard link to a host file") {
    {
      TarWriter w(f.tarball);
      w.hardlink("shadow", "/etc/shadow");
      w.close();
    }
    CHECK(f.refusal() == f.tarball + ": entry 'shadow' refused: hard link target: absolute path");
    CHECK_FALSE(fs::exists(f.root + "/shadow"));
  }
  SUBCASE("a hard link out of the tree") {
    {
      TarWriter w(f.tarball);
      w.hardlink("x", "../outside/y");
      w.close();
    }
    CHECK(f.refusal() == f.tarball + ": entry 'x' refused: hard link target: path contains '..'");
  }
  SUBCASE("a hard link through a symlink") {
    test::write_file(outside + "/secret", "secret");
    {
      TarWriter w(f.tarball);
      w.symlink("ln", outside).hardlink("x", "ln/secret");
      w.close();
    }
    CHECK(contains(f.refusal(), "entry 'x' refused"));
    CHECK_FALSE(fs::exists(f.root + "/x"));
  }
  SUBCASE("a name with a newline") {
    {
      TarWriter w(f.tarball);
      w.file("a\nb", "x");
      w.close();
    }
    CHECK(f.refusal() == f.tarball + ": entry 'a\nb' refused: name contains a newline");
  }
  SUBCASE("a root that is not a directory") {
    {
      TarWriter w(f.tarball);
      w.file("./", "x");
      w.close();
    }
    CHECK(contains(f.refusal(), "refused: the root is not a directory"));
  }
}

TEST_CASE("tarball: unreadable archives") {
  Fixture f;
  SUBCASE("an empty archive") {
    {
      TarWriter w(f.tarball, Filter::kNone);
      w.close();
    }
    CHECK(f.refusal() == f.tarball + ": archive is empty");
  }
  SUBCASE("not an archive") {
    test::write_file(f.tarball, std::string(2000, 'x'));
    CHECK(f.refusal().rfind(f.tarball + ": ", 0) == 0);
  }
  SUBCASE("a missing file") { CHECK(contains(f.refusal(), f.tarball)); }
  SUBCASE("a truncated archive") {
    {
      TarWriter w(f.tarball, Filter::kNone);
      w.file("big", std::string(100000, 'z'));
      w.close();
    }
    REQUIRE(::truncate(f.tarball.c_str(), 50000) == 0);
    CHECK(contains(f.refusal(), f.tarball));
  }
}

TEST_CASE("tarball: compressed archives are read") {
  struct Case {
    const char* name;
    Filter filter;
  };
  for (const Case& c :
       {Case{"tar", Filter::kNone}, Case{"gzip", Filter::kGzip}, Case{"bzip2", Filter::kBzip2},
        Case{"xz", Filter::kXz}, Case{"zstd", Filter::kZstd}}) {
    CAPTURE(c.name);
    Fixture f;
    {
      TarWriter w(f.tarball, c.filter);
      w.dir("d/").file("d/f", std::string(c.name) + " content", 0640, 7, 8);
      w.close();
    }
    if (c.filter != Filter::kNone) CHECK(test::read_file(f.tarball).find(" content") == std::string::npos);
    auto tree = f.extract();
    REQUIRE_MESSAGE(tree, tree.error().message());
    CHECK(test::read_file(f.root + "/d/f") == std::string(c.name) + " content");
    REQUIRE(tree->db.find("d/f") != nullptr);
    CHECK(tree->db.find("d/f")->uid == 7);
    CHECK(tree->db.find("d/f")->gid == 8);
  }
}

TEST_CASE("tarball: verify_sha256") {
  auto dir = test::temp_dir();
  const std::string path = dir.path() + "/blob";
  test::write_file(path, "hello\n");
  const std::string good = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

  SUBCASE("match") {
    auto d = verify_sha256(path, good);
    REQUIRE_MESSAGE(d, d.error().message());
    CHECK(to_hex(*d) == good);
  }
  SUBCASE("no expectation just hashes") {
    auto d = verify_sha256(path, "");
    REQUIRE_MESSAGE(d, d.error().message());
    CHECK(to_hex(*d) == good);
  }
  SUBCASE("mismatch names both digests") {
    const std::string wrong(64, '0');
    auto d = verify_sha256(path, wrong);
    REQUIRE_FALSE(d);
    CHECK(d.error().message() == path + ": sha256 mismatch: expected " + wrong + ", got " + good);
  }
  SUBCASE("missing file") {
    auto d = verify_sha256(dir.path() + "/nope", good);
    REQUIRE_FALSE(d);
    CHECK(d.error().message() == "open " + dir.path() + "/nope: No such file or directory");
  }
}

}  // namespace havre::pack
