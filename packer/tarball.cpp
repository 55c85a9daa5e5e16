#include "tarball.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>

#include "base/unique_fd.h"
#include "interrupt.h"

namespace havre::pack {
namespace {

using ReadArchive = std::unique_ptr<archive, decltype(&archive_read_free)>;
using WriteArchive = std::unique_ptr<archive, decltype(&archive_write_free)>;
using Entry = std::unique_ptr<archive_entry, decltype(&archive_entry_free)>;

// archive_write_disk resolves names against the working directory, and refuses absolute names by
// design (SECURE_NOABSOLUTEPATHS), so extraction runs inside the staging directory. Restored on exit.
class ScopedChdir {
 public:
  static Result<ScopedChdir> enter(const std::string& dir) {
    auto old = open_fd(".", O_RDONLY | O_DIRECTORY);
    if (!old) return old.error();
    if (::chdir(dir.c_str()) != 0) return sys_error("chdir " + dir);
    return ScopedChdir(std::move(*old));
  }
  ScopedChdir(ScopedChdir&&) = default;
  ~ScopedChdir() {
    if (old_.valid() && ::fchdir(old_.get()) != 0) {
      // Nothing sensible to do: the build is failing or finishing anyway.
    }
  }

 private:
  explicit ScopedChdir(UniqueFd old) : old_(std::move(old)) {}
  UniqueFd old_;
};

NodeAttrs attrs_of(archive_entry* e) {
  return NodeAttrs{static_cast<std::uint32_t>(archive_entry_mode(e)),
                   static_cast<std::uint32_t>(archive_entry_uid(e)),
                   static_cast<std::uint32_t>(archive_entry_gid(e)),
                   static_cast<std::uint32_t>(archive_entry_rdevmajor(e)),
                   static_cast<std::uint32_t>(archive_entry_rdevminor(e))};
}

}  // namespace

Result<std::string> normalize_entry_name(const std::string& name) {
  if (name.find('\n') != std::string::npos) return error("name contains a newline");
  if (!name.empty() && name.front() == '/') return error("absolute path");
  std::string out;
  size_t i = 0;
  while (i <= name.size()) {
    size_t j = name.find('/', i);
    if (j == std::string::npos) j = name.size();
    const std::string part = name.substr(i, j - i);
    if (part == "..") return error("path contains '..'");
    if (!part.empty() && part != ".") out += (out.empty() ? "" : "/") + part;
    i = j + 1;
  }
  return out;
}

Result<Digest> verify_sha256(const std::string& path, const std::string& expected_hex) {
  auto fd = open_fd(path, O_RDONLY);
  if (!fd) return fd.error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return sys_error("stat " + path);
  auto digest = sha256_fd_range(fd->get(), 0, static_cast<std::uint64_t>(st.st_size), path);
  if (!digest) return digest.error();
  if (!expected_hex.empty() && to_hex(*digest) != expected_hex)
    return error(path + ": sha256 mismatch: expected " + expected_hex + ", got " + to_hex(*digest));
  return digest;
}

Result<StagedTree> extract_tarball(const std::string& tarball, const std::string& dir,
                                   Attributes attributes) {
  const bool on_disk = attributes == Attributes::kOnDisk;
  ReadArchive in(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(in.get());
  archive_read_support_format_tar(in.get());
  if (archive_read_open_filename(in.get(), tarball.c_str(), 1 << 16) != ARCHIVE_OK)
    return error(tarball + ": " + archive_error_string(in.get()));

  // kFakerootDb: files land owned by us with owner-readable modes, the archive's own attributes go to
  // the fakeroot state, and device nodes and fifos land as empty regular files (see fakeroot_db.h).
  // kOnDisk: everything lands exactly as the archive says.
  WriteArchive out(archive_write_disk_new(), archive_write_free);
  archive_write_disk_set_options(
      out.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                     (on_disk ? ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_XATTR : 0) |
                     ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                     ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);

  auto cwd = ScopedChdir::enter(dir);
  if (!cwd) return cwd.error();

  StagedTree tree;
  tree.dir = dir;
  std::set<std::string> parents;  // directories implied by entry names
  size_t count = 0;
  std::optional<la_int64_t> root_mtime;
  for (;;) {
    if (auto ok = check_interrupted(); !ok) return ok.error();
    archive_entry* e = nullptr;
    int r = archive_read_next_header(in.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return error(tarball + ": " + archive_error_string(in.get()));
    const std::string raw = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    auto refuse = [&](const std::string& why) {
      return error(tarball + ": entry '" + raw + "' refused: " + why);
    };
    auto name = normalize_entry_name(raw);
    if (!name) return refuse(name.error().context);
    NodeAttrs attrs = attrs_of(e);
    const mode_t type = archive_entry_filetype(e);
    ++count;
    tree.newest_mtime = std::max<std::int64_t>(tree.newest_mtime, archive_entry_mtime(e));
    if (name->empty()) {  // "./": the root directory itself
      if (type != AE_IFDIR) return refuse("the root is not a directory");
      tree.db.set("", attrs);
      root_mtime = archive_entry_mtime(e);
      continue;
    }
    for (size_t s = name->find('/'); s != std::string::npos; s = name->find('/', s + 1))
      parents.insert(name->substr(0, s));
    archive_entry_set_pathname(e, name->c_str());

    if (const char* link = archive_entry_hardlink(e)) {
      auto target = normalize_entry_name(link);
      if (!target) return refuse("hard link target: " + target.error().context);
      const NodeAttrs* target_attrs = tree.db.find(*target);
      if (target_attrs == nullptr)
        return refuse("hard link to '" + *target + "', which is not in the archive before it");
      attrs = *target_attrs;  // one inode, one set of attributes
      archive_entry_set_hardlink(e, target->c_str());
    } else if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO) {
      if (!on_disk) {
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, 0);
      }
    } else if (type != AE_IFDIR && type != AE_IFREG && type != AE_IFLNK) {
      return refuse("unsupported file type");
    }
    if (!on_disk && type == AE_IFDIR)
      archive_entry_set_perm(e, 0755);
    else if (!on_disk && type != AE_IFLNK)
      archive_entry_set_perm(e, 0644);

    if (archive_write_header(out.get(), e) < ARCHIVE_WARN) return refuse(archive_error_string(out.get()));
    if (archive_entry_size(e) > 0 && archive_entry_hardlink(e) == nullptr) {
      const void* block;
      size_t size;
      la_int64_t offset;
      while ((r = archive_read_data_block(in.get(), &block, &size, &offset)) == ARCHIVE_OK) {
        if (archive_write_data_block(out.get(), block, size, offset) < ARCHIVE_WARN)
          return refuse(archive_error_string(out.get()));
      }
      if (r != ARCHIVE_EOF) return refuse(archive_error_string(in.get()));
    }
    if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN) return refuse(archive_error_string(out.get()));
    tree.db.set(*name, attrs);
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK)
    return error(tarball + ": finishing extraction: " + archive_error_string(out.get()));
  if (count == 0) return error(tarball + ": archive is empty");
  // Directories the archive implies but never lists get what `tar -x` as root would give them.
  for (const std::string& p : parents)
    if (!tree.db.contains(p)) tree.db.set(p, NodeAttrs{});
  if (!tree.db.contains("")) tree.db.set("", NodeAttrs{});
  if (on_disk) {
    const NodeAttrs& root = *tree.db.find("");
    if (::chown(".", root.uid, root.gid) != 0 || ::chmod(".", root.mode & 07777) != 0)
      return sys_error("set owner and mode of " + dir);
  }
  if (root_mtime) {
    const struct timespec times[2] = {{*root_mtime, 0}, {*root_mtime, 0}};
    if (::utimensat(AT_FDCWD, ".", times, 0) != 0) return sys_error("set modification time of " + dir);
  }
  // With the attributes on disk, mksquashfs needs no fakeroot; the db served hard links only.
  if (on_disk) tree.db = FakerootDb{};
  return tree;
}

namespace {

// Walks `dir` with libarchive's disk reader and hands each entry (named "./rel") to `sink`.
Status walk_disk(const std::string& dir, const std::function<Status(archive*, archive_entry*)>& sink) {
  ReadArchive disk(archive_read_disk_new(), archive_read_free);
  // Numeric ids only: an appliance's owners are numbers, whatever this host's passwd says.
  archive_read_disk_set_standard_lookup(disk.get());
  archive_read_disk_set_symlink_physical(disk.get());
  archive_read_disk_set_behavior(
      disk.get(), ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL | ARCHIVE_READDISK_NO_FFLAGS);
  auto cwd = ScopedChdir::enter(dir);
  if (!cwd) return cwd.error();
  if (archive_read_disk_open(disk.get(), ".") != ARCHIVE_OK)
    return error(dir + ": " + archive_error_string(disk.get()));
  for (;;) {
    if (auto ok = check_interrupted(); !ok) return ok;
    Entry e(archive_entry_new(), archive_entry_free);
    const int r = archive_read_next_header2(disk.get(), e.get());
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return error(dir + ": " + archive_error_string(disk.get()));
    archive_read_disk_descend(disk.get());
    archive_entry_set_uname(e.get(), nullptr);
    archive_entry_set_gname(e.get(), nullptr);
    if (auto ok = sink(disk.get(), e.get()); !ok) return ok;
  }
  return {};
}

// Copies an entry's file data from the disk reader to a writer.
template <typename Write>
Status copy_data(archive* disk, const std::string& name, Write write) {
  const void* block;
  size_t size;
  la_int64_t offset;
  int r;
  while ((r = archive_read_data_block(disk, &block, &size, &offset)) == ARCHIVE_OK)
    if (auto ok = write(block, size, offset); !ok) return ok;
  if (r != ARCHIVE_EOF) return error("read " + name + ": " + archive_error_string(disk));
  return {};
}

}  // namespace

Status copy_tree(const std::string& src, const std::string& dst) {
  WriteArchive out(archive_write_disk_new(), archive_write_free);
  // Absolute target names (the disk reader moves the working directory as it walks), so no
  // SECURE_NOABSOLUTEPATHS here; the names come from our own walk of `src`, below dst_abs.
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                                (::geteuid() == 0 ? ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_XATTR : 0) |
                                                ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  std::error_code ec;
  const std::string dst_abs = std::filesystem::absolute(dst, ec).string();
  if (ec) return sys_error(ec.value(), "resolve " + dst);
  return walk_disk(src, [&](archive* disk, archive_entry* e) -> Status {
    const std::string name = archive_entry_pathname(e);
    std::string target = dst_abs + "/" + name;
    archive_entry_set_pathname(e, target.c_str());
    if (const char* link = archive_entry_hardlink(e)) {
      const std::string hl = dst_abs + "/" + link;
      archive_entry_set_hardlink(e, hl.c_str());
    }
    if (archive_write_header(out.get(), e) < ARCHIVE_WARN)
      return error("copy " + src + "/" + name + ": " + archive_error_string(out.get()));
    if (archive_entry_size(e) > 0 && archive_entry_hardlink(e) == nullptr) {
      auto ok = copy_data(disk, name, [&](const void* b, size_t n, la_int64_t off) -> Status {
        if (archive_write_data_block(out.get(), b, n, off) < ARCHIVE_WARN)
          return error("copy " + name + ": " + archive_error_string(out.get()));
        return {};
      });
      if (!ok) return ok;
    }
    if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN)
      return error("copy " + src + "/" + name + ": " + archive_error_string(out.get()));
    return {};
  });
}

Status write_tarball(const std::string& dir, const std::string& output) {
  WriteArchive out(archive_write_new(), archive_write_free);
  archive_write_set_format_pax_restricted(out.get());
  archive_write_add_filter_zstd(out.get());
  if (archive_write_open_filename(out.get(), output.c_str()) != ARCHIVE_OK)
    return error(output + ": " + archive_error_string(out.get()));
  auto ok = walk_disk(dir, [&](archive* disk, archive_entry* e) -> Status {
    const std::string name = archive_entry_pathname(e);
    if (archive_write_header(out.get(), e) < ARCHIVE_WARN)
      return error(output + ": " + name + ": " + archive_error_string(out.get()));
    if (archive_entry_size(e) > 0 && archive_entry_filetype(e) == AE_IFREG &&
        archive_entry_hardlink(e) == nullptr)
      return copy_data(disk, name, [&](const void* b, size_t n, la_int64_t) -> Status {
        if (archive_write_data(out.get(), b, n) < 0)
          return error(output + ": " + archive_error_string(out.get()));
        return {};
      });
    return {};
  });
  if (!ok) return ok;
  if (archive_write_close(out.get()) != ARCHIVE_OK)
    return error(output + ": " + archive_error_string(out.get()));
  return {};
}

}  // namespace havre::pack
