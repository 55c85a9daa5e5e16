#include "tempdir.h"

#include <stdlib.h>

#include <filesystem>
#include <utility>

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

void remove_tree(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (!ec) return;
  // Unwritable directories stop remove_all; open them up (never following symlinks) and retry.
  for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  }
  fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(path, ec);
}

}  // namespace havre::pack
