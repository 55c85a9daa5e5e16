#include "files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "mount.h"

namespace havre::pack {
namespace {

namespace fs = std::filesystem;

Status set_attributes(const std::string& path, const std::string& rel, const FileSpec& f, StagedTree& tree,
                      Attributes attributes) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return sys_error("stat " + path);
  std::uint32_t mode = st.st_mode;
  if (f.mode && !S_ISLNK(st.st_mode)) mode = (mode & S_IFMT) | *f.mode;
  const std::uint32_t uid = f.uid.value_or(0), gid = f.gid.value_or(0);
  if (attributes == Attributes::kFakerootDb) {
    tree.db.set(rel, NodeAttrs{mode, uid, gid, 0, 0});
    return {};
  }
  if (::lchown(path.c_str(), uid, gid) != 0) return sys_error("chown " + path);
  if (!S_ISLNK(st.st_mode) && ::chmod(path.c_str(), mode & 07777) != 0) return sys_error("chmod " + path);
  return {};
}

}  // namespace

Status apply_files(const std::vector<FileSpec>& files, const std::string& recipe_file, StagedTree& tree,
                   Attributes attributes) {
  for (const FileSpec& f : files) {
    const std::string where = recipe_file + ":" + std::to_string(f.line) + ": files: " + f.dst;
    std::error_code ec;
    const fs::file_status src = fs::symlink_status(f.src, ec);
    if (ec || !fs::exists(src)) return error(where + ": source " + f.src + " does not exist");

    // The parent must be a real directory of the tree: an image's symlink must not carry the copy
    // out of it (the same check the runtime makes for mount points).
    const fs::path dst_rel(f.dst);
    std::vector<std::string> created;  // parents that did not exist: root-owned 0755, as `mkdir -p` by root
    for (fs::path p = dst_rel.parent_path(); p != p.root_path(); p = p.parent_path())
      if (!fs::exists(tree.dir + p.string(), ec)) created.push_back(p.string().substr(1));
    if (auto ok = runtime::ensure_mountpoint(tree.dir, dst_rel.parent_path().string(), false); !ok)
      return ok.error().wrap(where);
    if (attributes == Attributes::kFakerootDb)
      for (const std::string& p : created) tree.db.set(p, NodeAttrs{});
    const std::string dst = tree.dir + f.dst;
    if (runtime::is_symlink(tree.dir, f.dst) || (fs::exists(dst, ec) && !fs::is_directory(dst, ec)))
      fs::remove(dst, ec);
    fs::copy(f.src, dst,
             fs::copy_options::recursive | fs::copy_options::copy_symlinks | fs::copy_options::overwrite_existing,
             ec);
    if (ec) return sys_error(ec.value(), where + ": copy " + f.src);

    // Attributes for everything copied (Docker's COPY --chown/--chmod).
    const std::string rel = f.dst.substr(1);
    if (auto ok = set_attributes(dst, rel, f, tree, attributes); !ok) return ok.error().wrap(where);
    if (fs::is_directory(src)) {
      for (auto it = fs::recursive_directory_iterator(f.src, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        const std::string sub = fs::relative(it->path(), f.src).string();
        if (auto ok = set_attributes(dst + "/" + sub, rel + "/" + sub, f, tree, attributes); !ok)
          return ok.error().wrap(where);
      }
      if (ec) return sys_error(ec.value(), where + ": walk " + f.src);
    }
  }
  return {};
}

}  // namespace havre::pack
