#include "format/superblock.h"

#include "format/endian.h"

namespace havre::squashfs {

std::string compression_name(std::uint16_t id) {
  switch (id) {
    case 1:
      return "gzip";
    case 2:
      return "lzma";
    case 3:
      return "lzo";
    case 4:
      return "xz";
    case 5:
      return "lz4";
    case 6:
      return "zstd";
    default:
      return "";
  }
}

Result<Superblock> parse(std::span<const std::byte> b, std::uint64_t offset, std::uint64_t file_size) {
  if (b.size() < kSuperblockSize) return error("squashfs superblock: truncated");
  if (load_le<std::uint32_t>(b, 0) != kMagic) return error("squashfs superblock: bad magic");
  Superblock sb;
  sb.inodes = load_le<std::uint32_t>(b, 4);
  sb.mkfs_time = load_le<std::uint32_t>(b, 8);
  sb.block_size = load_le<std::uint32_t>(b, 12);
  sb.compression = load_le<std::uint16_t>(b, 20);
  const auto block_log = load_le<std::uint16_t>(b, 22);
  sb.major = load_le<std::uint16_t>(b, 28);
  sb.minor = load_le<std::uint16_t>(b, 30);
  sb.bytes_used = load_le<std::uint64_t>(b, 40);

  if (sb.major != 4 || sb.minor != 0)
    return error("squashfs superblock: version " + std::to_string(sb.major) + "." + std::to_string(sb.minor) +
                 ", expected 4.0");
  const std::uint32_t bs = sb.block_size;
  if (bs < 4096 || bs > (1u << 20) || (bs & (bs - 1)) != 0 || block_log < 12 || block_log > 20 ||
      (1u << block_log) != bs)
    return error("squashfs superblock: bad block size " + std::to_string(bs));
  if (compression_name(sb.compression).empty())
    return error("squashfs superblock: unknown compressor " + std::to_string(sb.compression));
  if (sb.inodes == 0) return error("squashfs superblock: no inodes");
  if (sb.bytes_used < kSuperblockSize || offset > file_size || sb.bytes_used > file_size - offset)
    return error("squashfs superblock: bytes_used " + std::to_string(sb.bytes_used) +
                 " runs past the end of the file");
  // The metadata tables the kernel needs must start inside the image.
  const std::uint64_t id_table = load_le<std::uint64_t>(b, 48);
  const std::uint64_t inode_table = load_le<std::uint64_t>(b, 64);
  const std::uint64_t dir_table = load_le<std::uint64_t>(b, 72);
  if (inode_table < kSuperblockSize || inode_table > dir_table || dir_table >= sb.bytes_used ||
      id_table >= sb.bytes_used)
    return error("squashfs superblock: table offsets lie outside the image");
  return sb;
}

}  // namespace havre::squashfs
