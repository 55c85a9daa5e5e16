#include "atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <span>

#include "base/io.h"
#include "base/unique_fd.h"

namespace havre::pack {

Status fsync_parent_dir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  auto fd = open_fd(dir, O_RDONLY | O_DIRECTORY);
  if (!fd) return fd.error();
  if (::fsync(fd->get()) != 0) return sys_error("fsync " + dir);
  return {};
}

Status commit_file(int fd, const std::string& temp, const std::string& target) {
  if (::fsync(fd) != 0) return sys_error("fsync " + temp);
  if (::rename(temp.c_str(), target.c_str()) != 0) return sys_error("rename " + temp + " to " + target);
  return fsync_parent_dir(target);
}

Status write_file_atomically(const std::string& target, const std::string& text, const std::string& temp) {
  auto fd = open_fd(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (!fd) return fd.error();
  if (::fchmod(fd->get(), 0644) != 0) return sys_error("chmod " + temp);  // whatever the umask
  if (auto ok = write_all(fd->get(), std::as_bytes(std::span(text)), temp); !ok) return ok;
  if (auto ok = commit_file(fd->get(), temp, target); !ok) {
    ::unlink(temp.c_str());
    return ok;
  }
  return {};
}

}  // namespace havre::pack
