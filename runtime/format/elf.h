// Where an ELF file's own bytes end: anything appended after it (the image) starts at or after this.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"

namespace havre::elf {

/// End of the 64-bit little-endian ELF image in fd: the furthest of the program and section header
/// tables, every segment's file bytes and every section's file bytes. Reads headers only.
Result<std::uint64_t> image_end(int fd, const std::string& path);

}  // namespace havre::elf
