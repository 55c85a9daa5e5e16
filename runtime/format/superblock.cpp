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

namespace {

constexpr std::uint64_t kNone = ~std::uint64_t{0};  // an optional table that is absent
constexpr std::uint64_t kMetadataBlock = 8192;
// The smallest inode on disk (an IPC inode: 16 bytes of base, 4 of link count), and the fewest bytes a
// metadata block takes (a 2-byte header and one byte of data).
constexpr std::uint64_t kMinInode = 20;
constexpr std::uint64_t kMinMetadataBlock = 3;

std::uint64_t index_bytes(std::uint64_t count, std::uint64_t each) {
  return (count * each + kMetadataBlock - 1) / kMetadataBlock * 8;
}

Error bad(const std::string& field, std::uint64_t value, const std::string& why) {
  return error("squashfs superblock: " + field + " " + std::to_string(value) + " " + why);
}

// A table index of `count` entries of `each` bytes at `start`, after the directory table and inside
// the image.
Status check_index(const std::string& field, std::uint64_t start, std::uint64_t count, std::uint64_t each,
                   std::uint64_t dir_table, std::uint64_t bytes_used) {
  if (start <= dir_table || start >= bytes_used)
    return bad(field, start,
               "lies outside the image's tables (after " + std::to_string(dir_table) + ", before " +
                   std::to_string(bytes_used) + ")");
  if (index_bytes(count, each) > bytes_used - start)
    return bad(field, start,
               "holds an index for " + std::to_string(count) + " entries that runs past the image's end");
  return {};
}

Status check_tables(std::span<const std::byte> b, std::uint32_t inodes, std::uint64_t bytes_used) {
  const std::uint32_t fragments = load_le<std::uint32_t>(b, 16);
  const std::uint16_t ids = load_le<std::uint16_t>(b, 26);
  const std::uint64_t root_inode = load_le<std::uint64_t>(b, 32);
  const std::uint64_t id_table = load_le<std::uint64_t>(b, 48);
  const std::uint64_t xattr_table = load_le<std::uint64_t>(b, 56);
  const std::uint64_t inode_table = load_le<std::uint64_t>(b, 64);
  const std::uint64_t dir_table = load_le<std::uint64_t>(b, 72);
  const std::uint64_t fragment_table = load_le<std::uint64_t>(b, 80);
  const std::uint64_t lookup_table = load_le<std::uint64_t>(b, 88);
  if (inode_table < kSuperblockSize || inode_table >= bytes_used)
    return bad("inode_table_start", inode_table, "lies outside the image");
  if (dir_table <= inode_table || dir_table >= bytes_used)
    return bad("directory_table_start", dir_table,
               "does not lie between the inode table and the image's end");
  const std::uint64_t inode_bytes = dir_table - inode_table;
  if ((root_inode >> 16) >= inode_bytes || (root_inode & 0xffff) >= kMetadataBlock)
    return bad("root_inode", root_inode, "points outside the inode table");
  if (inodes > (inode_bytes / kMinMetadataBlock + 1) * (kMetadataBlock / kMinInode))
    return bad("inodes", inodes,
               "is more than an inode table of " + std::to_string(inode_bytes) + " bytes holds");
  if (ids == 0) return bad("no_ids", ids, "(every inode's owner is in the id table)");
  if (auto ok = check_index("id_table_start", id_table, ids, 4, dir_table, bytes_used); !ok) return ok;
  if (fragments > 0)
    if (auto ok = check_index("fragment_table_start", fragment_table, fragments, 16, dir_table, bytes_used);
        !ok)
      return ok.error().wrap("fragments " + std::to_string(fragments));
  if (lookup_table != kNone)
    if (auto ok = check_index("lookup_table_start", lookup_table, inodes, 8, dir_table, bytes_used); !ok)
      return ok.error().wrap("inodes " + std::to_string(inodes));
  if (xattr_table != kNone && (xattr_table <= dir_table || xattr_table > bytes_used - 16))
    return bad("xattr_id_table_start", xattr_table, "lies outside the image's tables");
  return {};
}

}  // namespace

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
  // Every table offset and count, checked against the image and each other before the kernel or
  // libsquashfuse sees them: libsquashfuse reads each table's index (8 bytes per 8 KiB metadata block
  // of entries) at its start offset without bounds checks of its own, and indexes it unchecked.
  if (auto ok = check_tables(b, sb.inodes, sb.bytes_used); !ok) return ok.error();
  return sb;
}

}  // namespace havre::squashfs
