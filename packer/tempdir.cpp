#include "tempdir.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <filesystem>
#include <utility>
#include <vector>

namespace havre::pack {

namespace fs = std::filesystem;

Result<TempDir> TempDir::make(const std::string& parent, const std::string& prefix) {
  std::string templ = (fs::path(parent) / (prefix + "XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr) return sys_error("create temporary directory in " + parent);
  return TempDir(templ);
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

TempDir::~TempDir() {
  if (!path_.empty()) remove_tree(path_);
}

namespace {

// The first entry of the directory `fd` besides . and .., or "" when it is empty.
std::string first_entry(int fd) {
  const int copy = ::dup(fd);
  if (copy < 0) return "";
  DIR* d = ::fdopendir(copy);
  if (!d) {
    ::close(copy);
    return "";
  }
  ::rewinddir(d);
  std::string name;
  while (const dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      name = e->d_name;
      break;
    }
  }
  ::closedir(d);
  return name;
}

}  // namespace

void remove_tree(const std::string& path) {
  // Through directory fds, one open at a time and a stack of names back up: a tree deeper than
  // PATH_MAX (or than our fd limit) goes too, and unwritable directories are opened up first
  // (never following symlinks: only real directories are entered).
  int cur = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (cur < 0) {
    ::unlink(path.c_str());
    return;
  }
  std::vector<std::string> names;  // from `path` down to cur
  for (;;) {
    ::fchmod(cur, S_IRWXU);
    const std::string name = first_entry(cur);
    if (!name.empty()) {
      if (::unlinkat(cur, name.c_str(), 0) == 0) continue;
      struct stat st {};
      if (::fstatat(cur, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
        ::fchmodat(cur, name.c_str(), S_IRWXU, 0);
        const int child = ::openat(cur, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child >= 0) {
          ::close(cur);
          cur = child;
          names.push_back(name);
          continue;
        }
      }
      break;  // cannot remove or enter it: give up on the rest
    }
    if (names.empty()) break;
    const int parent = ::openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ::close(cur);
    if (parent < 0) return;
    cur = parent;
    if (::unlinkat(cur, names.back().c_str(), AT_REMOVEDIR) != 0) break;  // a mount point: leave it
    names.pop_back();
  }
  ::close(cur);
  ::rmdir(path.c_str());
}

}  // namespace havre::pack
