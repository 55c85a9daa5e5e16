#include "base/io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/unique_fd.h"

namespace havre {

Result<size_t> pread_some(int fd, std::span<std::byte> buf, std::uint64_t offset, const std::string& path) {
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::pread(fd, buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read " + path);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Status pread_exact(int fd, std::span<std::byte> buf, std::uint64_t offset, const std::string& path) {
  auto n = pread_some(fd, buf, offset, path);
  if (!n) return n.error();
  if (*n != buf.size())
    return error("read " + path + ": file ends at " + std::to_string(offset + *n) + ", expected " +
                 std::to_string(buf.size()) + " bytes at offset " + std::to_string(offset));
  return {};
}

Status write_control_file(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error("open " + path);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    const std::string shown = !text.empty() && text.back() == '\n' ? text.substr(0, text.size() - 1) : text;
    return sys_error("write '" + shown + "' to " + path);
  }
  return {};
}

Status write_all(int fd, std::span<const std::byte> buf, const std::string& path) {
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::write(fd, buf.data() + done, buf.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write " + path);
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

Result<std::uint64_t> file_size(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return sys_error("stat " + path);
  return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace havre
