// The trailing footer: THE contract between havre-pack (writes) and the runtime (reads).
// Appliance = [runtime ELF][zero padding to 4096][SquashFS image, padded to 4096][manifest JSON]
//             [signature block, only when flags has kFlagSigned (format/signature.h)][footer].
// Layout (docs/format.md), all integers little-endian, encoded field by field:
//   0  u32 format version        4  u32 footer size (kSize)     8  u64 flags (kFlagSigned or 0)
//  16  u64 image offset         24  u64 image size             32  u64 manifest offset
//  40  u64 manifest size        48  [32] image sha256          80  [32] manifest sha256
// 112  u64 checksum = first 8 bytes of sha256(bytes 0..111), little-endian
// 120  [8] magic "HAVRE\0FT" -- the file's last bytes
// Layout change => bump kVersion.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.h"
#include "base/sha256.h"

namespace havre::footer {

inline constexpr std::size_t kSize = 128;
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::array<char, 8> kMagic = {'H', 'A', 'V', 'R', 'E', '\0', 'F', 'T'};
/// The image starts on this boundary (direct I/O on loop devices needs it).
inline constexpr std::uint64_t kImageAlignment = 4096;
/// Flag bit 0: a signature block of kSignatureBlockSize bytes sits right before the footer, and the
/// manifest ends where it starts. A reader refuses any other bit.
inline constexpr std::uint64_t kFlagSigned = 1;
inline constexpr std::uint64_t kKnownFlags = kFlagSigned;
inline constexpr std::size_t kSignatureBlockSize = 128;

struct Footer {
  std::uint32_t version = kVersion;
  std::uint64_t flags = 0;
  std::uint64_t image_offset = 0;  // bytes from start of file
  std::uint64_t image_size = 0;
  std::uint64_t manifest_offset = 0;
  std::uint64_t manifest_size = 0;
  Digest image_sha256{};
  Digest manifest_sha256{};

  bool is_signed() const { return (flags & kFlagSigned) != 0; }
  /// What follows the manifest up to the end of the file: the footer, after the signature block if any.
  std::uint64_t trailer_size() const { return kSize + (is_signed() ? kSignatureBlockSize : 0); }
};

/// Every byte is determined by the fields, so encode(*decode(bytes)) == bytes for any accepted bytes
/// (signature verification relies on it).
std::array<std::byte, kSize> encode(const Footer& footer);
/// Checks size, magic, checksum, version and flags; knows nothing of the file around it.
Result<Footer> decode(std::span<const std::byte> tail);
/// decode() plus every offset and size checked against the file's size.
Result<Footer> decode_for_file(std::span<const std::byte> tail, std::uint64_t file_size);
/// One pread of the file's last kSize bytes, checked against fstat().
Result<Footer> read_from(int fd, const std::string& path);

constexpr std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

}  // namespace havre::footer
