// Whole-buffer pread/write loops (EINTR and short transfers handled), naming the path on error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/error.h"

namespace havre {

/// Reads exactly buf.size() bytes at offset; a short file is an error.
Status pread_exact(int fd, std::span<std::byte> buf, std::uint64_t offset, const std::string& path);
/// Reads up to buf.size() bytes at offset; returns how many (less only at end of file).
Result<size_t> pread_some(int fd, std::span<std::byte> buf, std::uint64_t offset, const std::string& path);
Status write_all(int fd, std::span<const std::byte> buf, const std::string& path);
/// Writes `text` to a kernel control file (/proc/PID/uid_map, cgroup files) in the one write(2) such
/// files require; the error names the value and the path.
Status write_control_file(const std::string& path, const std::string& text);
/// Size of the open file (fstat).
Result<std::uint64_t> file_size(int fd, const std::string& path);

}  // namespace havre
