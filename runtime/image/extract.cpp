#include "image/extract.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <vector>

extern "C" {
#include <squashfuse/squashfuse.h>
}

#include "base/cache_dir.h"
#include "base/log.h"
#include "base/sha256.h"
#include "base/unique_fd.h"

namespace havre::runtime {
namespace {

namespace fs = std::filesystem;

struct DirTimes {
  std::string path;
  mode_t mode;
  time_t mtime;
};

Status extract_file(sqfs* fs, sqfs_inode* inode, const std::string& path) {
  UniqueFd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out.valid()) return sys_error("create " + path);
  std::vector<char> buf(1 << 17);
  const sqfs_off_t total = static_cast<sqfs_off_t>(inode->xtra.reg.file_size);
  for (sqfs_off_t off = 0; off < total;) {
    sqfs_off_t size = std::min<sqfs_off_t>(static_cast<sqfs_off_t>(buf.size()), total - off);
    if (sqfs_read_range(fs, inode, off, &size, buf.data()) != SQFS_OK || size <= 0)
      return error("read " + path + " from the image");
    if (::write(out.get(), buf.data(), static_cast<size_t>(size)) != size) return sys_error("write " + path);
    off += size;
  }
  return {};
}

}  // namespace

Status extract_image(const Appliance& app, const std::string& dir) {
  return extract_tree(app.fd.get(), app.image_offset, app.path, dir);
}

Status extract_tree(int fd, std::uint64_t image_offset, const std::string& name, const std::string& dir) {
  const int image_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (image_fd < 0) return sys_error("dup the fd of " + name);
  sqfs fs{};
  if (sqfs_init(&fs, image_fd, static_cast<size_t>(image_offset)) != SQFS_OK) {
    ::close(image_fd);
    return error("libsquashfuse cannot read the image in " + name);
  }
  struct Closer {
    sqfs* fs;
    ~Closer() {
      sqfs_destroy(fs);
      ::close(fs->fd);
    }
  } closer{&fs};
  if (::mkdir(dir.c_str(), 0700) != 0) return sys_error("mkdir " + dir);

  const bool root = ::geteuid() == 0;
  std::vector<DirTimes> dirs;
  sqfs_traverse trv;
  if (sqfs_traverse_open(&trv, &fs, sqfs_inode_root(&fs)) != SQFS_OK)
    return error("read the image's root directory");
  struct TraverseCloser {
    sqfs_traverse* t;
    ~TraverseCloser() { sqfs_traverse_close(t); }
  } trv_closer{&trv};
  sqfs_err err = SQFS_OK;
  while (sqfs_traverse_next(&trv, &err)) {
    if (trv.dir_end) continue;
    const std::string name = sqfs_dentry_name(&trv.entry);
    const std::string rel = trv.path;
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
      return error("the image holds an unsafe name '" + name + "' in /" + rel);
    const std::string path = dir + "/" + rel;
    // Every parent was created by us as a real directory; refuse anything else (a hostile image with a
    // symlink and a directory of the same name).
    struct stat parent {};
    if (::lstat(fs::path(path).parent_path().c_str(), &parent) != 0 || !S_ISDIR(parent.st_mode))
      return error("the image's /" + rel + " is not under a directory");
    sqfs_inode inode;
    if (sqfs_inode_get(&fs, &inode, sqfs_dentry_inode(&trv.entry)) != SQFS_OK)
      return error("read inode of /" + rel);
    const mode_t mode = inode.base.mode;
    const time_t mtime = static_cast<time_t>(inode.base.mtime);
    if (S_ISDIR(mode)) {
      if (::mkdir(path.c_str(), 0700) != 0) return sys_error("mkdir " + path);
      dirs.push_back({path, static_cast<mode_t>(mode & 07777), mtime});
    } else if (S_ISREG(mode)) {
      if (auto ok = extract_file(&fs, &inode, path); !ok) return ok;
      if (::chmod(path.c_str(), mode & 07777) != 0) return sys_error("chmod " + path);
    } else if (S_ISLNK(mode)) {
      std::string target(inode.xtra.symlink_size + 1, '\0');
      size_t size = target.size();
      if (sqfs_readlink(&fs, &inode, target.data(), &size) != SQFS_OK) return error("read link /" + rel);
      target.resize(std::strlen(target.c_str()));
      if (::symlink(target.c_str(), path.c_str()) != 0) return sys_error("symlink " + path);
    } else if (S_ISFIFO(mode)) {
      if (::mkfifo(path.c_str(), mode & 07777) != 0) return sys_error("mkfifo " + path);
    } else if ((S_ISCHR(mode) || S_ISBLK(mode)) && root) {
      if (::mknod(path.c_str(), mode, makedev(inode.xtra.dev.major, inode.xtra.dev.minor)) != 0)
        return sys_error("mknod " + path);
    } else {
      continue;  // device nodes without root, sockets: nothing a container needs from the image
    }
    if (root) {
      uid_t uid = 0;
      gid_t gid = 0;
      sqfs_id_get(&fs, inode.base.uid, &uid);
      sqfs_id_get(&fs, inode.base.guid, &gid);
      if (::lchown(path.c_str(), uid, gid) != 0) return sys_error("chown " + path);
    }
    const struct timespec times[2] = {{mtime, 0}, {mtime, 0}};
    ::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }
  if (err != SQFS_OK) return error("walk the image in " + name);
  // Directory modes and times last, deepest first: writing into them changed their times, and a
  // read-only directory could not have been filled.
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    if (::chmod(it->path.c_str(), it->mode) != 0) return sys_error("chmod " + it->path);
    const struct timespec times[2] = {{it->mtime, 0}, {it->mtime, 0}};
    ::utimensat(AT_FDCWD, it->path.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }
  return {};
}

namespace {

// The cache's record that the appliance file, as it is now (device, inode, size, ctime: any write or
// replacement changes one of them), holds an image whose bytes this user's runtime hashed to `sha`.
std::string file_record(const std::string& cache, const std::string& sha, const struct stat& st) {
  return cache + "/files/" + sha + "-" + std::to_string(st.st_dev) + "-" + std::to_string(st.st_ino) + "-" +
         std::to_string(st.st_size) + "-" + std::to_string(st.st_ctim.tv_sec) + "." +
         std::to_string(st.st_ctim.tv_nsec);
}

// Copies the image into an unnamed file of the cache directory while hashing it: what is extracted is
// then exactly the bytes that were hashed, whatever happens to the appliance file meanwhile.
Result<std::pair<UniqueFd, Digest>> snapshot_image(const Appliance& app, const std::string& cache) {
  UniqueFd out(::open(cache.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!out.valid()) return sys_error("create an unnamed file in " + cache);
  Sha256 hash;
  std::vector<std::byte> buf(1 << 20);
  for (std::uint64_t done = 0; done < app.image_size;) {
    const size_t want = static_cast<size_t>(std::min<std::uint64_t>(buf.size(), app.image_size - done));
    const ssize_t n = ::pread(app.fd.get(), buf.data(), want, static_cast<off_t>(app.image_offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + app.path);
    if (n == 0) return error("read " + app.path + ": unexpected end of file in the image");
    hash.update(std::span(buf.data(), static_cast<size_t>(n)));
    for (ssize_t w = 0; w < n;) {
      const ssize_t m = ::write(out.get(), buf.data() + w, static_cast<size_t>(n - w));
      if (m < 0 && errno == EINTR) continue;
      if (m < 0) return sys_error("write a copy of the image in " + cache);
      w += m;
    }
    done += static_cast<std::uint64_t>(n);
  }
  return std::pair{std::move(out), hash.finish()};
}

// $XDG_CACHE_HOME/havre/extracted (else ~/.cache/havre/extracted), created 0700; refused unless it
// is a real directory of ours that nobody else can write (root under sudo may see the user's HOME).
Result<std::string> cache_dir(bool create) {
  const std::optional<std::string> base = default_cache_dir();
  if (!base) return error("no cache directory for an extracted copy: set XDG_CACHE_HOME or HOME");
  const std::string cache = *base + "/extracted";
  if (create) {
    std::error_code ec;
    fs::create_directories(cache + "/files", ec);
    if (ec) return sys_error(ec.value(), "create " + cache + "/files");
    ::chmod(cache.c_str(), 0700);  // one user's cache: nobody else lists or reads it
  }
  struct stat st {};
  if (::lstat(cache.c_str(), &st) != 0) return sys_error("stat " + cache);
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0)
    return error(cache + " is not a directory of uid " + std::to_string(::geteuid()) +
                 " that only it can write: not used for extracted images");
  return cache;
}

}  // namespace

std::optional<std::string> warm_copy(const Appliance& app) {
  if (!app.footer) return std::nullopt;
  auto cache = cache_dir(false);
  if (!cache) return std::nullopt;
  const std::string sha = to_hex(app.footer->image_sha256);
  const std::string dir = *cache + "/sha256-" + sha;
  struct stat self {};
  struct stat st {};
  if (::fstat(app.fd.get(), &self) != 0 || ::stat(file_record(*cache, sha, self).c_str(), &st) != 0 ||
      ::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return std::nullopt;
  return dir;
}

Result<std::string> extracted_copy(const Appliance& app, const char* why) {
  if (!app.footer) return error(app.path + ": no footer, so no image sha256 to key an extracted copy by");
  if (auto warm = warm_copy(app)) return *warm;
  auto made = cache_dir(true);
  if (!made) return made.error();
  const std::string cache = *made;
  const std::string sha = to_hex(app.footer->image_sha256);
  const std::string dir = cache + "/sha256-" + sha;
  struct stat self {};
  if (::fstat(app.fd.get(), &self) != 0) return sys_error("stat " + app.path);
  const std::string record = file_record(cache, sha, self);
  struct stat st {};
  std::error_code ec;
  // Leftovers of extractions that were killed (a live one is minutes old at most).
  const auto stale = fs::file_time_type::clock::now() - std::chrono::hours(24);
  // Also trees of the old layout (extracted/<sha256>, keyed by an unchecked footer): never trusted.
  for (const auto& e : fs::directory_iterator(cache, ec)) {
    const std::string name = e.path().filename().string();
    const bool old_layout =
        name.size() == 64 && name.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (old_layout || (name.rfind(".partial-", 0) == 0 && e.last_write_time(ec) < stale))
      fs::remove_all(e.path(), ec);
  }
  // The footer's sha256 is only a claim: the bytes are hashed, and a tree is stored under (and
  // reused for) the sha256 the bytes really have. A forged footer gets no tree of another image.
  log::debug("hashing the image before extracting it");
  auto snap = snapshot_image(app, cache);
  if (!snap) return snap.error();
  if (snap->second != app.footer->image_sha256)
    return error(app.path + ": the image does not match the sha256 its footer records (" + sha +
                 ", the bytes hash to " + to_hex(snap->second) + "): damaged or forged, not extracted");
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::string temp = cache + "/.partial-XXXXXX";
    if (::mkdtemp(temp.data()) == nullptr) return sys_error("create a temporary directory in " + cache);
    if (why) log::warn("%s: extracting the image once to %s and running from there", why, dir.c_str());
    auto fail = [&](Error e) {
      fs::remove_all(temp, ec);
      return e;
    };
    if (auto ok = extract_tree(snap->first.get(), 0, app.path, temp + "/root"); !ok) return fail(ok.error());
    // Another run may have finished first; its copy is as good as ours.
    if (::rename((temp + "/root").c_str(), dir.c_str()) != 0 && errno != ENOTEMPTY && errno != EEXIST)
      return fail(sys_error("rename " + temp + "/root to " + dir));
    fs::remove_all(temp, ec);
  }
  // Written last, atomically: a record always names a complete tree of the bytes it was hashed from.
  const std::string partial = record + ".partial";
  UniqueFd rec(::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!rec.valid() || ::rename(partial.c_str(), record.c_str()) != 0) return sys_error("record " + record);
  return dir;
}

}  // namespace havre::runtime
