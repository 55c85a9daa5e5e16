#include "format/footer.h"

#include <doctest/doctest.h>

#include <cstring>
#include <limits>

#include "base/unique_fd.h"
#include "format/endian.h"
#include "test_util.h"

namespace havre {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

Digest pattern_digest(std::uint8_t start) {
  Digest d{};
  for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(start + i);
  return d;
}

/// Recomputes the checksum the way footer.cpp does: the first 8 bytes of sha256(bytes 0..111), LE.
void reseal(std::array<std::byte, footer::kSize>& bytes) {
  const Digest d = sha256(std::span<const std::byte>(bytes).first(112));
  store_le<std::uint64_t>(bytes, 112, load_le<std::uint64_t>(std::as_bytes(std::span(d)), 0));
}

// A consistent layout: image at 4096 (8192 bytes), manifest of 100 bytes, then the footer.
constexpr std::uint64_t kFileSize = 4096 + 8192 + 100 + footer::kSize;

footer::Footer valid_layout() {
  footer::Footer f;
  f.image_offset = 4096;
  f.image_size = 8192;
  f.manifest_offset = 4096 + 8192;
  f.manifest_size = 100;
  return f;
}

}  // namespace

TEST_CASE("footer: encode/decode round-trips every field") {
  footer::Footer in;
  in.image_offset = 0x1122334455667000;
  in.image_size = 0x0102030405060708;
  in.manifest_offset = 0xa0b0c0d0e0f00102;
  in.manifest_size = 0x0000000100000002;
  in.image_sha256 = pattern_digest(0x10);
  in.manifest_sha256 = pattern_digest(0x80);
  const auto bytes = footer::encode(in);
  REQUIRE(bytes.size() == 128);

  auto out = footer::decode(bytes);
  REQUIRE_MESSAGE(out, out.error().message());
  CHECK(out->version == footer::kVersion);
  CHECK(out->image_offset == in.image_offset);
  CHECK(out->image_size == in.image_size);
  CHECK(out->manifest_offset == in.manifest_offset);
  CHECK(out->manifest_size == in.manifest_size);
  CHECK(out->image_sha256 == in.image_sha256);
  CHECK(out->manifest_sha256 == in.manifest_sha256);
  CHECK(footer::encode(*out) == bytes);
}

TEST_CASE("footer: fields are little-endian at fixed byte positions") {
  footer::Footer in;
  in.image_offset = 0x0102030405060708;
  in.image_size = 0x1112131415161718;
  in.manifest_offset = 0x2122232425262728;
  in.manifest_size = 0x3132333435363738;
  in.image_sha256 = pattern_digest(0x40);
  in.manifest_sha256 = pattern_digest(0xc0);
  const auto bytes = footer::encode(in);
  auto at = [&](size_t i) { return std::to_integer<unsigned>(bytes[i]); };

  // u32 version 1, u32 size 128, u64 flags 0
  CHECK(at(0) == 1);
  CHECK(at(1) == 0);
  CHECK(at(2) == 0);
  CHECK(at(3) == 0);
  CHECK(at(4) == 128);
  CHECK(at(5) == 0);
  for (size_t i = 8; i < 16; ++i) CHECK(at(i) == 0);
  // Least significant byte first.
  for (size_t i = 0; i < 8; ++i) {
    CAPTURE(i);
    CHECK(at(16 + i) == 0x08 - i);
    CHECK(at(24 + i) == 0x18 - i);
    CHECK(at(32 + i) == 0x28 - i);
    CHECK(at(40 + i) == 0x38 - i);
  }
  CHECK(std::memcmp(&bytes[48], in.image_sha256.data(), 32) == 0);
  CHECK(std::memcmp(&bytes[80], in.manifest_sha256.data(), 32) == 0);
  // Checksum: the first 8 bytes of sha256(bytes 0..111), stored as a little-endian u64 of those bytes.
  const Digest d = sha256(std::span<const std::byte>(bytes).first(112));
  CHECK(std::memcmp(&bytes[112], d.data(), 8) == 0);
  // The magic is the file's last 8 bytes.
  CHECK(test::as_chars(std::span(bytes).last(8)) == std::string_view("HAVRE\0FT", 8));
}

TEST_CASE("footer: decode rejects damaged footers") {
  auto bytes = footer::encode(valid_layout());

  SUBCASE("bad magic") {
    bytes.back() ^= std::byte{0xff};
    auto out = footer::decode(bytes);
    REQUIRE_FALSE(out);
    CHECK(out.error().message() == "footer: bad magic");
  }
  SUBCASE("a flipped byte in the middle fails the checksum") {
    bytes[60] ^= std::byte{0x01};
    auto out = footer::decode(bytes);
    REQUIRE_FALSE(out);
    CHECK(out.error().message() == "footer: bad checksum");
  }
  SUBCASE("a damaged checksum") {
    bytes[112] ^= std::byte{0x80};
    auto out = footer::decode(bytes);
    REQUIRE_FALSE(out);
    CHECK(out.error().message() == "footer: bad checksum");
  }
  SUBCASE("a changed version without a new checksum is a bad checksum") {
    store_le<std::uint32_t>(bytes, 0, 2);
    auto out = footer::decode(bytes);
    REQUIRE_FALSE(out);
    CHECK(out.error().message() == "footer: bad checksum");
  }
  SUBCASE("a resealed newer version is reported as unsupported") {
    store_le<std::uint32_t>(bytes, 0, 2);
    reseal(bytes);
    auto out = footer::decode(bytes);
    REQUIRE_FALSE(out);
    CHECK(out.error().message() ==
          "footer: format version 2 is not supported (this runtime reads version 1)");
  }
  SUBCASE("a newer version written by encode() is reported as unsupported") {
    footer::Footer newer = valid_layout();
    newer.version = 7;
    auto out = footer::decode(footer::encode(newer));
    REQUIRE_FALSE(out);
    CHECK(out.error().message() ==
          "footer: format version 7 is not supported (this runtime reads version 1)");
  }
  SUBCASE("a resealed wrong footer size") {
    store_le<std::uint32_t>(bytes, 4, 64);
    reseal(bytes);
    auto out = footer::decode(bytes);
    REQUIRE_FALSE(out);
    CHECK(out.error().message() == "footer: bad footer size");
  }
  SUBCASE("resealed unknown flags (bit 0, signed, is known; bit 1 is not)") {
    store_le<std::uint64_t>(bytes, 8, footer::kFlagSigned | 2);
    reseal(bytes);
    auto out = footer::decode(bytes);
    REQUIRE_FALSE(out);
    CHECK(out.error().message() == "footer: unknown flags");
  }
  SUBCASE("reseal() reproduces the encoder's checksum") {
    reseal(bytes);
    CHECK(footer::decode(bytes));
  }
}

TEST_CASE("footer: decode reads the last 128 bytes of a longer tail and refuses a short one") {
  const auto bytes = footer::encode(valid_layout());
  SUBCASE("truncated") {
    auto out = footer::decode(std::span(bytes).first(127));
    REQUIRE_FALSE(out);
    CHECK(out.error().message() == "footer: truncated (127 of 128 bytes)");
  }
  SUBCASE("empty") {
    auto out = footer::decode({});
    REQUIRE_FALSE(out);
    CHECK(out.error().message() == "footer: truncated (0 of 128 bytes)");
  }
  SUBCASE("the tail of a footer cut at the front") {
    CHECK_FALSE(footer::decode(std::span(bytes).last(127)));
  }
  SUBCASE("longer tail") {
    std::vector<std::byte> tail(300, std::byte{0x5a});
    tail.insert(tail.end(), bytes.begin(), bytes.end());
    auto out = footer::decode(tail);
    REQUIRE_MESSAGE(out, out.error().message());
    CHECK(out->image_offset == 4096);
    CHECK(out->manifest_size == 100);
  }
}

TEST_CASE("footer: decode_for_file checks the layout against the file size") {
  footer::Footer f = valid_layout();
  auto check_rejected = [&](std::uint64_t file_size, const std::string& expected) {
    auto out = footer::decode_for_file(footer::encode(f), file_size);
    REQUIRE_FALSE(out);
    CHECK(out.error().message() == expected);
  };

  SUBCASE("a consistent layout is accepted") {
    auto out = footer::decode_for_file(footer::encode(f), kFileSize);
    REQUIRE_MESSAGE(out, out.error().message());
    CHECK(out->image_offset == 4096);
    CHECK(out->manifest_offset == 12288);
  }
  SUBCASE("an empty manifest right before the footer is accepted") {
    f.manifest_size = 0;
    CHECK(footer::decode_for_file(footer::encode(f), kFileSize - 100));
  }
  SUBCASE("a damaged footer is reported as such") {
    auto bytes = footer::encode(f);
    bytes[20] ^= std::byte{1};
    auto out = footer::decode_for_file(bytes, kFileSize);
    REQUIRE_FALSE(out);
    CHECK(out.error().message() == "footer: bad checksum");
  }
  SUBCASE("file shorter than a footer") { check_rejected(127, "footer: file is shorter than a footer"); }
  SUBCASE("image offset not 4096-aligned") {
    f.image_offset = 4097;
    check_rejected(kFileSize, "footer: image offset 4097 is not a positive multiple of 4096");
  }
  SUBCASE("image offset zero") {
    f.image_offset = 0;
    check_rejected(kFileSize, "footer: image offset 0 is not a positive multiple of 4096");
  }
  SUBCASE("empty image") {
    f.image_size = 0;
    check_rejected(kFileSize, "footer: image (offset 4096, size 0) lies outside the file (" +
                                  std::to_string(kFileSize) + " bytes)");
  }
  SUBCASE("image past the end of the file") {
    f.image_size = kFileSize;
    check_rejected(kFileSize, "footer: image (offset 4096, size " + std::to_string(kFileSize) +
                                  ") lies outside the file (" + std::to_string(kFileSize) + " bytes)");
  }
  SUBCASE("image running into the footer") {
    f.image_size = kFileSize - footer::kSize - 4096 + 1;
    check_rejected(kFileSize, "footer: image (offset 4096, size " + std::to_string(f.image_size) +
                                  ") lies outside the file (" + std::to_string(kFileSize) + " bytes)");
  }
  SUBCASE("image starting past the end of the file") {
    f.image_offset = 1 << 20;
    CHECK_FALSE(footer::decode_for_file(footer::encode(f), kFileSize));
  }
  SUBCASE("manifest overlapping the image") {
    f.manifest_offset = 4096 + 8192 - 1;
    f.manifest_size = 101;
    check_rejected(kFileSize,
                   "footer: manifest (offset 12287, size 101) does not lie between image and footer");
  }
  SUBCASE("manifest ending before the footer") {
    f.manifest_size = 99;
    check_rejected(kFileSize,
                   "footer: manifest (offset 12288, size 99) does not lie between image and footer");
  }
  SUBCASE("manifest running into the footer") {
    f.manifest_size = 101;
    check_rejected(kFileSize,
                   "footer: manifest (offset 12288, size 101) does not lie between image and footer");
  }
  SUBCASE("manifest offset past the footer") {
    f.manifest_offset = kFileSize;
    f.manifest_size = 0;
    CHECK_FALSE(footer::decode_for_file(footer::encode(f), kFileSize));
  }
}

TEST_CASE("footer: decode_for_file rejects values whose sums would overflow") {
  footer::Footer f = valid_layout();
  SUBCASE("aligned image offset near UINT64_MAX") {
    f.image_offset = kMax - 4095;  // 0xffff...f000, a multiple of 4096
    f.image_size = 8192;           // offset + size wraps to 4096
    f.manifest_offset = 4096;
  }
  SUBCASE("image size near UINT64_MAX") {
    f.image_size = kMax - 4095;  // 4096 + size wraps to 1
  }
  SUBCASE("manifest offset near UINT64_MAX") {
    f.manifest_offset = kMax - 99;
    f.manifest_size = 100;
  }
  SUBCASE("manifest size near UINT64_MAX") { f.manifest_size = kMax; }
  SUBCASE("manifest wraps around to the footer") {
    // manifest_offset + manifest_size == footer_at (mod 2^64), with the manifest before the image.
    f.manifest_offset = 4096 + 8192 + 1000;
    f.manifest_size = (kFileSize - footer::kSize) - f.manifest_offset;  // wraps to a huge value
  }
  CAPTURE(f.image_offset);
  CAPTURE(f.image_size);
  CAPTURE(f.manifest_offset);
  CAPTURE(f.manifest_size);
  CHECK_FALSE(footer::decode_for_file(footer::encode(f), kFileSize));
  CHECK_FALSE(footer::decode_for_file(footer::encode(f), kMax));
}

TEST_CASE("footer: read_from reads the tail of a file") {
  auto dir = test::temp_dir();
  const std::string path = dir.path() + "/app";
  const auto bytes = footer::encode(valid_layout());

  SUBCASE("a file with a consistent footer") {
    std::string content(kFileSize - footer::kSize, '\0');
    content += test::as_chars(bytes);
    test::write_file(path, content);
    auto fd = open_fd(path, O_RDONLY);
    REQUIRE(fd);
    auto out = footer::read_from(fd->get(), path);
    REQUIRE_MESSAGE(out, out.error().message());
    CHECK(out->image_size == 8192);
  }
  SUBCASE("the same footer in a file of the wrong size") {
    std::string content(kFileSize - footer::kSize + 1, '\0');
    content += test::as_chars(bytes);
    test::write_file(path, content);
    auto fd = open_fd(path, O_RDONLY);
    REQUIRE(fd);
    auto out = footer::read_from(fd->get(), path);
    REQUIRE_FALSE(out);
    CHECK(out.error().message() ==
          "footer: manifest (offset 12288, size 100) does not lie between image and footer");
  }
  SUBCASE("a file shorter than a footer") {
    test::write_file(path, "short");
    auto fd = open_fd(path, O_RDONLY);
    REQUIRE(fd);
    auto out = footer::read_from(fd->get(), path);
    REQUIRE_FALSE(out);
    CHECK(out.error().message() == "footer: " + path + " is shorter than a footer");
  }
}

TEST_CASE("footer: align_up") {
  CHECK(footer::align_up(0, 4096) == 0);
  CHECK(footer::align_up(1, 4096) == 4096);
  CHECK(footer::align_up(4096, 4096) == 4096);
  CHECK(footer::align_up(4097, 4096) == 8192);
}

}  // namespace havre
