// SquashFS 4.0 superblock: parsing and the checks that make a found "hsqs" trustworthy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/error.h"

namespace havre::squashfs {

inline constexpr std::size_t kSuperblockSize = 96;
inline constexpr std::uint32_t kMagic = 0x73717368;  // "hsqs" on disk

struct Superblock {
  std::uint32_t inodes = 0;
  std::uint32_t mkfs_time = 0;
  std::uint32_t block_size = 0;
  std::uint16_t compression = 0;
  std::uint16_t major = 0, minor = 0;
  std::uint64_t bytes_used = 0;
};

/// Name of a SquashFS compressor id ("zstd"), or "" if unknown.
std::string compression_name(std::uint16_t id);

/// Parses and validates a superblock found at `offset` of a file of `file_size` bytes:
/// magic, version 4.0, power-of-two block size 4K..1M matching block_log, a known compressor,
/// table offsets inside bytes_used, and bytes_used inside the file.
Result<Superblock> parse(std::span<const std::byte> bytes, std::uint64_t offset, std::uint64_t file_size);

}  // namespace havre::squashfs
