#include "format/superblock.h"

#include <doctest/doctest.h>

#include <limits>

#include "format/endian.h"
#include "test_util.h"

namespace havre {
namespace {

using test::SbField;

std::string rejection(std::span<const std::byte> sb, std::uint64_t offset = 0,
                      std::uint64_t file_size = 1 << 20) {
  auto out = squashfs::parse(sb, offset, file_size);
  REQUIRE_FALSE(out);
  return out.error().message();
}

}  // namespace

TEST_CASE("superblock: compression_name") {
  CHECK(squashfs::compression_name(1) == "gzip");
  CHECK(squashfs::compression_name(2) == "lzma");
  CHECK(squashfs::compression_name(3) == "lzo");
  CHECK(squashfs::compression_name(4) == "xz");
  CHECK(squashfs::compression_name(5) == "lz4");
  CHECK(squashfs::compression_name(6) == "zstd");
  CHECK(squashfs::compression_name(0) == "");
  CHECK(squashfs::compression_name(7) == "");
  CHECK(squashfs::compression_name(0xffff) == "");
}

TEST_CASE("superblock: a valid hand-built 4.0 superblock is accepted") {
  auto sb = test::make_superblock(4096);
  store_le<std::uint32_t>(sb, 8, 1700000000);  // mkfs_time
  auto out = squashfs::parse(sb, 0, 4096);
  REQUIRE_MESSAGE(out, out.error().message());
  CHECK(out->inodes == 3);
  CHECK(out->mkfs_time == 1700000000);
  CHECK(out->block_size == 131072);
  CHECK(out->compression == 1);
  CHECK(out->major == 4);
  CHECK(out->minor == 0);
  CHECK(out->bytes_used == 4096);

  SUBCASE("every block size from 4K to 1M with its block_log") {
    for (std::uint16_t log = 12; log <= 20; ++log) {
      CAPTURE(log);
      store_le<std::uint32_t>(sb, SbField::kBlockSize, 1u << log);
      store_le<std::uint16_t>(sb, SbField::kBlockLog, log);
      auto parsed = squashfs::parse(sb, 0, 4096);
      REQUIRE_MESSAGE(parsed, parsed.error().message());
      CHECK(parsed->block_size == (1u << log));
    }
  }
  SUBCASE("every known compressor") {
    for (std::uint16_t id = 1; id <= 6; ++id) {
      CAPTURE(id);
      store_le<std::uint16_t>(sb, SbField::kCompression, id);
      CHECK(squashfs::parse(sb, 0, 4096));
    }
  }
  SUBCASE("with fragments, an export table and xattrs inside the image") {
    store_le<std::uint32_t>(sb, SbField::kFragments, 600);  // 2 index entries
    store_le<std::uint64_t>(sb, SbField::kFragmentTable, 400);
    store_le<std::uint64_t>(sb, SbField::kLookupTable, 500);
    store_le<std::uint64_t>(sb, SbField::kXattrTable, 4080);
    auto parsed = squashfs::parse(sb, 0, 4096);
    REQUIRE_MESSAGE(parsed, parsed.error().message());
  }
  SUBCASE("a longer buffer is fine") {
    std::vector<std::byte> longer(sb.begin(), sb.end());
    longer.resize(4096);
    CHECK(squashfs::parse(longer, 0, 4096));
  }
}

TEST_CASE("superblock: each invalid field is rejected") {
  auto sb = test::make_superblock(4096);
  std::span<std::byte> b(sb);

  SUBCASE("truncated") { CHECK(rejection(b.first(95)) == "squashfs superblock: truncated"); }
  SUBCASE("magic") {
    store_le<std::uint32_t>(b, SbField::kMagic, 0x68737173);  // "sqsh": a big-endian image
    CHECK(rejection(b) == "squashfs superblock: bad magic");
  }
  SUBCASE("version 3.1") {
    store_le<std::uint16_t>(b, SbField::kMajor, 3);
    store_le<std::uint16_t>(b, SbField::kMinor, 1);
    CHECK(rejection(b) == "squashfs superblock: version 3.1, expected 4.0");
  }
  SUBCASE("version 4.1") {
    store_le<std::uint16_t>(b, SbField::kMinor, 1);
    CHECK(rejection(b) == "squashfs superblock: version 4.1, expected 4.0");
  }
  SUBCASE("block size not a power of two") {
    store_le<std::uint32_t>(b, SbField::kBlockSize, 100000);
    CHECK(rejection(b) == "squashfs superblock: bad block size 100000");
  }
  SUBCASE("block_log not matching the block size") {
    store_le<std::uint16_t>(b, SbField::kBlockLog, 16);
    CHECK(rejection(b) == "squashfs superblock: bad block size 131072");
  }
  SUBCASE("block size below 4K") {
    store_le<std::uint32_t>(b, SbField::kBlockSize, 2048);
    store_le<std::uint16_t>(b, SbField::kBlockLog, 11);
    CHECK(rejection(b) == "squashfs superblock: bad block size 2048");
  }
  SUBCASE("block size above 1M") {
    store_le<std::uint32_t>(b, SbField::kBlockSize, 2u << 20);
    store_le<std::uint16_t>(b, SbField::kBlockLog, 21);
    CHECK(rejection(b) == "squashfs superblock: bad block size 2097152");
  }
  SUBCASE("block size zero") {
    store_le<std::uint32_t>(b, SbField::kBlockSize, 0);
    CHECK(rejection(b) == "squashfs superblock: bad block size 0");
  }
  SUBCASE("unknown compressor 9") {
    store_le<std::uint16_t>(b, SbField::kCompression, 9);
    CHECK(rejection(b) == "squashfs superblock: unknown compressor 9");
  }
  SUBCASE("compressor 0") {
    store_le<std::uint16_t>(b, SbField::kCompression, 0);
    CHECK(rejection(b) == "squashfs superblock: unknown compressor 0");
  }
  SUBCASE("no inodes") {
    store_le<std::uint32_t>(b, SbField::kInodes, 0);
    CHECK(rejection(b) == "squashfs superblock: no inodes");
  }
  SUBCASE("bytes_used smaller than a superblock") {
    store_le<std::uint64_t>(b, SbField::kBytesUsed, 95);
    CHECK(rejection(b) == "squashfs superblock: bytes_used 95 runs past the end of the file");
  }
  SUBCASE("inode table inside the superblock") {
    store_le<std::uint64_t>(b, SbField::kInodeTable, 95);
    CHECK(rejection(b) == "squashfs superblock: inode_table_start 95 lies outside the image");
  }
  SUBCASE("inode table after the directory table") {
    store_le<std::uint64_t>(b, SbField::kInodeTable, 201);
    CHECK(rejection(b) ==
          "squashfs superblock: directory_table_start 200 does not lie between the inode table and the image's end");
  }
  SUBCASE("directory table at bytes_used") {
    store_le<std::uint64_t>(b, SbField::kDirTable, 4096);
    CHECK(rejection(b) ==
          "squashfs superblock: directory_table_start 4096 does not lie between the inode table and the image's end");
  }
  SUBCASE("id table past bytes_used") {
    store_le<std::uint64_t>(b, SbField::kIdTable, 1u << 30);
    CHECK(rejection(b) == "squashfs superblock: id_table_start 1073741824 lies outside the image's tables (after "
                          "200, before 4096)");
  }
  SUBCASE("id table at UINT64_MAX") {
    store_le<std::uint64_t>(b, SbField::kIdTable, std::numeric_limits<std::uint64_t>::max());
    CHECK(rejection(b).starts_with("squashfs superblock: id_table_start 18446744073709551615 lies outside"));
  }
  SUBCASE("id table before the directory table") {
    store_le<std::uint64_t>(b, SbField::kIdTable, 150);
    CHECK(rejection(b).starts_with("squashfs superblock: id_table_start 150 lies outside"));
  }
  SUBCASE("no ids") {
    store_le<std::uint16_t>(b, SbField::kNoIds, 0);
    CHECK(rejection(b).starts_with("squashfs superblock: no_ids 0"));
  }
  SUBCASE("an id table index running past the end (65535 ids need 128 index entries)") {
    store_le<std::uint16_t>(b, SbField::kNoIds, 65535);
    store_le<std::uint64_t>(b, SbField::kIdTable, 4000);
    CHECK(rejection(b) == "squashfs superblock: id_table_start 4000 holds an index for 65535 entries that runs "
                          "past the image's end");
  }
  SUBCASE("root inode outside the inode table") {
    store_le<std::uint64_t>(b, SbField::kRootInode, std::uint64_t{104} << 16);
    CHECK(rejection(b).starts_with("squashfs superblock: root_inode 6815744 points outside the inode table"));
  }
  SUBCASE("root inode offset beyond a metadata block") {
    store_le<std::uint64_t>(b, SbField::kRootInode, 8192);
    CHECK(rejection(b).starts_with("squashfs superblock: root_inode 8192 points outside"));
  }
  SUBCASE("more inodes than the inode table can hold (issue 11: SIGSEGV in the FUSE server)") {
    store_le<std::uint32_t>(b, SbField::kInodes, 0xffffffff);
    CHECK(rejection(b).starts_with("squashfs superblock: inodes 4294967295 is more than an inode table of 104"));
  }
  SUBCASE("an export table too small for the inode count") {
    store_le<std::uint32_t>(b, SbField::kInodes, 14000);  // 14 index entries, 112 bytes
    store_le<std::uint64_t>(b, SbField::kLookupTable, 4000);
    CHECK(rejection(b) == "inodes 14000: squashfs superblock: lookup_table_start 4000 holds an index for 14000 "
                          "entries that runs past the image's end");
  }
  SUBCASE("huge fragment count (issue 11: free(): invalid pointer in the FUSE server)") {
    store_le<std::uint32_t>(b, SbField::kFragments, 0xffffffff);
    store_le<std::uint64_t>(b, SbField::kFragmentTable, 400);
    CHECK(rejection(b) == "fragments 4294967295: squashfs superblock: fragment_table_start 400 holds an index "
                          "for 4294967295 entries that runs past the image's end");
  }
  SUBCASE("fragments but no fragment table") {
    store_le<std::uint32_t>(b, SbField::kFragments, 1);
    CHECK(rejection(b).starts_with("fragments 1: squashfs superblock: fragment_table_start 18446744073709551615"));
  }
  SUBCASE("xattr table outside the image") {
    store_le<std::uint64_t>(b, SbField::kXattrTable, 4090);
    CHECK(rejection(b).starts_with("squashfs superblock: xattr_id_table_start 4090 lies outside"));
  }
}

// Regression: `1u << block_log` with block_log >= 32 was undefined and wrapped on x86.
TEST_CASE("superblock: a block_log of 32 or more is rejected, not shifted modulo 32") {
  // 1u << 44 is undefined behaviour; on x86 it computes 1 << 12 == 4096. The kernel refuses any
  // block_log above 20, so a superblock that passes here must not be one the kernel refuses.
  auto sb = test::make_superblock(4096);
  store_le<std::uint32_t>(sb, SbField::kBlockSize, 4096);
  store_le<std::uint16_t>(sb, SbField::kBlockLog, 44);
  auto out = squashfs::parse(sb, 0, 1 << 20);
  CHECK_FALSE(out);
}

TEST_CASE("superblock: bytes_used must lie inside the file") {
  const auto sb = test::make_superblock(4096);
  SUBCASE("image exactly at the end") { CHECK(squashfs::parse(sb, 8192, 8192 + 4096)); }
  SUBCASE("offset + bytes_used beyond the file") {
    auto out = squashfs::parse(sb, 8192, 8192 + 4095);
    REQUIRE_FALSE(out);
    CHECK(out.error().message() == "squashfs superblock: bytes_used 4096 runs past the end of the file");
  }
  SUBCASE("offset beyond the file") { CHECK_FALSE(squashfs::parse(sb, 1 << 20, 4096)); }
  SUBCASE("offset + bytes_used overflowing") {
    auto huge = test::make_superblock(std::numeric_limits<std::uint64_t>::max() - 100);
    CHECK_FALSE(squashfs::parse(huge, 4096, std::numeric_limits<std::uint64_t>::max()));
  }
}

TEST_CASE("superblock: mksquashfs's own superblocks are accepted") {
  auto dir = test::temp_dir();
  struct Case {
    const char* name;
    std::uint16_t id;
  };
  for (const Case& c : {Case{"gzip", 1}, Case{"xz", 4}, Case{"lz4", 5}, Case{"zstd", 6}}) {
    CAPTURE(c.name);
    auto work = pack::TempDir::make(dir.path(), c.name);
    REQUIRE(work);
    const std::string image = test::make_real_image(work->path(), c.name);
    auto out = squashfs::parse(test::as_byte_span(image), 0, image.size());
    REQUIRE_MESSAGE(out, out.error().message());
    CHECK(out->compression == c.id);
    CHECK(out->major == 4);
    CHECK(out->block_size == 131072);
    CHECK(out->inodes == 2);  // the root and hello.txt
    CHECK(out->bytes_used <= image.size());
    CHECK(image.size() % 4096 == 0);  // mksquashfs pads to 4K
  }
}

}  // namespace havre
