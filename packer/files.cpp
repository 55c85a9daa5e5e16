#include "files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "appliance.h"
#include "base/unique_fd.h"

namespace havre::pack {
namespace {

namespace fs = std::filesystem;

// Copies one `files` entry into the staged tree. Everything is created relative to directory fds
// opened with O_NOFOLLOW, so a symlink the image planted (say /etc/inner -> /tmp) is never followed
// out of the tree: a file or link replaces it, a directory to descend into through it is refused.
class Copier {
 public:
  Copier(const FileSpec& spec, StagedTree& tree, Attributes attributes, std::uint32_t mtime)
      : spec_(spec), tree_(tree), attributes_(attributes), mtime_(mtime) {}

  Status copy() {
    const fs::path dst(spec_.dst);
    auto parent = open_parents(dst.parent_path());
    if (!parent) return parent.error();
    return copy_entry(spec_.src, parent->get(), dst.filename().string(), spec_.dst.substr(1));
  }

 private:
  // Opens (creating as needed) each directory of `rel` below the tree's root, never through a symlink.
  Result<UniqueFd> open_parents(const fs::path& rel) {
    auto dir = open_fd(tree_.dir, O_PATH | O_DIRECTORY);
    if (!dir) return dir.error();
    std::string sofar;
    for (const fs::path& part : rel.relative_path()) {
      const std::string name = part.string();
      sofar += (sofar.empty() ? "" : "/") + name;
      struct stat st {};
      if (::fstatat(dir->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT) return sys_error("stat /" + sofar);
        if (::mkdirat(dir->get(), name.c_str(), 0755) != 0) return sys_error("mkdir /" + sofar);
        // As `mkdir -p` by root: root-owned 0755.
        if (attributes_ == Attributes::kFakerootDb) tree_.db.set(sofar, NodeAttrs{});
      } else if (S_ISLNK(st.st_mode)) {
        return error("refusing to copy through /" + sofar + ": /" + sofar + " is a symlink in the image");
      } else if (!S_ISDIR(st.st_mode)) {
        return error("/" + sofar + " is not a directory in the image");
      }
      const int next = ::openat(dir->get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0) return sys_error("open /" + sofar);
      dir->reset(next);
    }
    return std::move(*dir);
  }

  Status copy_entry(const std::string& src, int parent, const std::string& name, const std::string& rel) {
    struct stat st {};
    if (::lstat(src.c_str(), &st) != 0) return sys_error("stat " + src);
    struct stat existing {};
    const bool exists = ::fstatat(parent, name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
    const std::uint32_t mode =
        spec_.mode && !S_ISLNK(st.st_mode) ? (st.st_mode & S_IFMT) | *spec_.mode : st.st_mode;

    if (S_ISDIR(st.st_mode)) {
      if (exists && S_ISLNK(existing.st_mode))
        return error("refusing to copy into /" + rel + ": /" + rel + " is a symlink in the image");
      if (exists && !S_ISDIR(existing.st_mode) && ::unlinkat(parent, name.c_str(), 0) != 0)
        return sys_error("replace /" + rel);
      if ((!exists || !S_ISDIR(existing.st_mode)) && ::mkdirat(parent, name.c_str(), 0755) != 0)
        return sys_error("mkdir /" + rel);
      UniqueFd dir(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!dir.valid()) return sys_error("open /" + rel);
      if (auto ok = set_attributes(dir.get(), parent, name, rel, mode); !ok) return ok;
      std::vector<std::string> children;
      std::error_code ec;
      for (auto it = fs::directory_iterator(src, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
        children.push_back(it->path().filename().string());
      if (ec) return sys_error(ec.value(), "list " + src);
      // Sorted: the copy does the same steps in the same order whatever the directory's order on disk.
      std::sort(children.begin(), children.end());
      for (const std::string& child : children)
        if (auto ok = copy_entry(src + "/" + child, dir.get(), child, rel + "/" + child); !ok) return ok;
      // Last: adding the children changed the directory's time.
      return set_mtime(dir.get(), parent, name, rel);
    }
    if (exists && S_ISDIR(existing.st_mode)) return error("/" + rel + " is a directory in the image");
    if (exists && ::unlinkat(parent, name.c_str(), 0) != 0) return sys_error("replace /" + rel);
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      const std::string target = fs::read_symlink(src, ec).string();
      if (ec) return sys_error(ec.value(), "readlink " + src);
      if (::symlinkat(target.c_str(), parent, name.c_str()) != 0) return sys_error("symlink /" + rel);
      if (auto ok = set_attributes(-1, parent, name, rel, mode); !ok) return ok;
      return set_mtime(-1, parent, name, rel);
    }
    if (!S_ISREG(st.st_mode)) return error(src + ": only files, directories and symlinks can be copied");
    UniqueFd out(::openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out.valid()) return sys_error("create /" + rel);
    auto in = open_fd(src, O_RDONLY);
    if (!in) return in.error();
    if (auto ok = copy_range(in->get(), 0, out.get(), 0, UINT64_MAX, "copy " + src + " to /" + rel); !ok)
      return ok;
    if (auto ok = set_attributes(out.get(), parent, name, rel, mode); !ok) return ok;
    return set_mtime(out.get(), parent, name, rel);
  }

  // The build's epoch as access and modification time; a symlink (fd < 0) gets its own times set.
  Status set_mtime(int fd, int parent, const std::string& name, const std::string& rel) {
    const struct timespec times[2] = {{static_cast<time_t>(mtime_), 0}, {static_cast<time_t>(mtime_), 0}};
    const int rc =
        fd >= 0 ? ::futimens(fd, times) : ::utimensat(parent, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
    if (rc != 0) return sys_error("set the modification time of /" + rel);
    return {};
  }

  // The entry's owner (default 0:0) and mode: on disk as root, in the fakeroot state otherwise.
  Status set_attributes(int fd, int parent, const std::string& name, const std::string& rel,
                        std::uint32_t mode) {
    const std::uint32_t uid = spec_.uid.value_or(0), gid = spec_.gid.value_or(0);
    if (attributes_ == Attributes::kFakerootDb) {
      tree_.db.set(rel, NodeAttrs{mode, uid, gid, 0, 0});
      // On disk only what the (unprivileged) mksquashfs needs to read it.
      if (fd >= 0 && ::fchmod(fd, (mode & 0777) | (S_ISDIR(mode) ? 0700 : 0600)) != 0)
        return sys_error("chmod /" + rel);
      return {};
    }
    if (fd < 0) {  // a symlink: owner only
      if (::fchownat(parent, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
        return sys_error("chown /" + rel);
      return {};
    }
    if (::fchown(fd, uid, gid) != 0) return sys_error("chown /" + rel);
    if (::fchmod(fd, mode & 07777) != 0) return sys_error("chmod /" + rel);
    return {};
  }

  const FileSpec& spec_;
  StagedTree& tree_;
  Attributes attributes_;
  std::uint32_t mtime_;
};

}  // namespace

Status check_file_sources(const std::vector<FileSpec>& files, const std::string& recipe_file) {
  for (const FileSpec& f : files) {
    struct stat st {};
    if (::lstat(f.src.c_str(), &st) != 0)
      return sys_error(recipe_file + ":" + std::to_string(f.line) + ": files: " + f.dst + ": source " +
                       f.src);
  }
  return {};
}

Status apply_files(const std::vector<FileSpec>& files, const std::string& recipe_file, StagedTree& tree,
                   Attributes attributes, std::uint32_t mtime) {
  for (const FileSpec& f : files) {
    const std::string where = recipe_file + ":" + std::to_string(f.line) + ": files: " + f.dst;
    if (auto ok = Copier(f, tree, attributes, mtime).copy(); !ok) return ok.error().wrap(where);
  }
  return {};
}

}  // namespace havre::pack
