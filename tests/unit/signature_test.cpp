#include "format/signature.h"

#include <doctest/doctest.h>
#include <sodium.h>

#include <cstring>

#include "format/endian.h"
#include "format/keys.h"
#include "test_util.h"

namespace havre {
namespace {

footer::Footer sample_footer() {
  footer::Footer f;
  f.image_offset = 4096;
  f.image_size = 8192;
  f.manifest_offset = 4096 + 8192;
  f.manifest_size = 100;
  for (size_t i = 0; i < 32; ++i) {
    f.image_sha256[i] = static_cast<std::uint8_t>(i);
    f.manifest_sha256[i] = static_cast<std::uint8_t>(0x80 + i);
  }
  return f;
}

signature::Block sample_block() {
  signature::Block b;
  for (size_t i = 0; i < b.public_key.size(); ++i) b.public_key[i] = static_cast<std::uint8_t>(0x20 + i);
  for (size_t i = 0; i < b.signature.size(); ++i) b.signature[i] = static_cast<std::uint8_t>(0x60 + i);
  b.key_id = signature::key_id(b.public_key);
  return b;
}

}  // namespace

TEST_CASE("signature: the block's fields sit at their documented offsets") {
  const signature::Block in = sample_block();
  const auto bytes = signature::encode(in);
  REQUIRE(bytes.size() == 128);
  CHECK(test::as_chars(std::span(bytes).first(8)) == "HAVRESIG");
  CHECK(load_le<std::uint32_t>(bytes, 8) == 1);     // ed25519
  CHECK(load_le<std::uint32_t>(bytes, 12) == 128);  // block size
  CHECK(std::memcmp(&bytes[16], in.key_id.data(), 8) == 0);
  CHECK(std::memcmp(&bytes[24], in.public_key.data(), 32) == 0);
  CHECK(std::memcmp(&bytes[56], in.signature.data(), 64) == 0);
  for (size_t i = 120; i < 128; ++i) CHECK(bytes[i] == std::byte{0});
  // The key id is the first 8 bytes of sha256(public key).
  const Digest d = sha256(std::as_bytes(std::span(in.public_key)));
  CHECK(std::memcmp(in.key_id.data(), d.data(), 8) == 0);

  auto out = signature::decode(bytes);
  REQUIRE_MESSAGE(out, out.error().message());
  CHECK(out->key_id == in.key_id);
  CHECK(out->public_key == in.public_key);
  CHECK(out->signature == in.signature);
}

TEST_CASE("signature: decode refuses damaged blocks") {
  auto bytes = signature::encode(sample_block());
  auto refused = [&](const std::string& want) {
    auto out = signature::decode(bytes);
    REQUIRE_FALSE(out);
    CHECK(out.error().message() == want);
  };
  SUBCASE("magic") {
    bytes[3] ^= std::byte{1};
    refused("signature block: bad magic");
  }
  SUBCASE("algorithm") {
    store_le<std::uint32_t>(bytes, 8, 2);
    refused("signature block: unknown algorithm 2 (this runtime knows 1, ed25519)");
  }
  SUBCASE("block size") {
    store_le<std::uint32_t>(bytes, 12, 256);
    refused("signature block: bad block size");
  }
  SUBCASE("key id") {
    bytes[16] ^= std::byte{1};
    refused("signature block: key id does not match its public key");
  }
  SUBCASE("public key (no longer matches the key id)") {
    bytes[40] ^= std::byte{1};
    refused("signature block: key id does not match its public key");
  }
  SUBCASE("padding") {
    bytes[127] = std::byte{1};
    refused("signature block: padding is not zero");
  }
  SUBCASE("length") {
    auto out = signature::decode(std::span(bytes).first(127));
    REQUIRE_FALSE(out);
    CHECK(out.error().message() == "signature block: 127 bytes, not 128");
  }
}

TEST_CASE("signature: the message is the domain string and footer bytes 0..111") {
  const auto footer_bytes = footer::encode(sample_footer());
  const auto m = signature::message(footer_bytes);
  REQUIRE(m.size() == 19 + 112);
  CHECK(test::as_chars(std::span(m).first(19)) == std::string_view("havre-signature-v1\0", 19));
  CHECK(std::memcmp(m.data() + 19, footer_bytes.data(), 112) == 0);
}

TEST_CASE("signature: sign and verify") {
  const signature::SecretKey key = test::new_secret_key();
  footer::Footer f = sample_footer();
  f.flags = footer::kFlagSigned;
  auto footer_bytes = footer::encode(f);
  const signature::Block block = signature::sign(key, footer_bytes);
  CHECK(block.public_key == signature::public_key_of(key));
  CHECK(block.key_id == signature::key_id(block.public_key));
  REQUIRE(signature::verify(block, footer_bytes));

  SUBCASE("every signed footer byte matters (flags, offsets, sizes, both sha256s)") {
    for (size_t i = 0; i < signature::kSignedFooterBytes; ++i) {
      auto changed = footer_bytes;
      changed[i] ^= std::byte{0x01};
      CHECK_MESSAGE(!signature::verify(block, changed), "footer byte " << i);
    }
  }
  SUBCASE("a flipped signature bit") {
    for (size_t i = 0; i < block.signature.size(); i += 7) {
      signature::Block bad = block;
      bad.signature[i] ^= 0x80;
      CHECK_MESSAGE(!signature::verify(bad, footer_bytes), "signature byte " << i);
    }
  }
  SUBCASE("another key's public key") {
    signature::Block other = block;
    other.public_key = signature::public_key_of(test::new_secret_key());
    CHECK_FALSE(signature::verify(other, footer_bytes));
  }
  SUBCASE("the same footer bytes without the domain string do not verify") {
    // A raw ed25519 signature of the footer bytes alone is not a havre signature.
    signature::Block raw = block;
    crypto_sign_detached(raw.signature.data(), nullptr,
                         reinterpret_cast<const unsigned char*>(footer_bytes.data()),
                         signature::kSignedFooterBytes, key.data());
    CHECK_FALSE(signature::verify(raw, footer_bytes));
  }
}

TEST_CASE("signature: signed_trailer ends a signed appliance: block, then a footer with the flag") {
  const signature::SecretKey key = test::new_secret_key();
  const footer::Footer f = sample_footer();
  const auto trailer = signature::signed_trailer(f, key);
  REQUIRE(trailer.size() == 256);
  auto block = signature::decode(std::span(trailer).first(128));
  REQUIRE_MESSAGE(block, block.error().message());
  auto decoded = footer::decode(std::span(trailer).last(128));
  REQUIRE_MESSAGE(decoded, decoded.error().message());
  CHECK(decoded->flags == footer::kFlagSigned);
  CHECK(decoded->is_signed());
  CHECK(decoded->image_sha256 == f.image_sha256);
  CHECK(signature::verify(*block, std::span(trailer).last(128)));
  // The same footer without the flag is a different message.
  CHECK_FALSE(signature::verify(*block, footer::encode(f)));
}

TEST_CASE("footer: a signed footer puts the manifest's end before the signature block") {
  footer::Footer f = sample_footer();
  f.flags = footer::kFlagSigned;
  const std::uint64_t unsigned_size = f.manifest_offset + f.manifest_size + footer::kSize;
  CHECK(f.trailer_size() == 256);
  auto ok = footer::decode_for_file(footer::encode(f), unsigned_size + 128);
  CHECK_MESSAGE(ok, ok.error().message());
  // 64 bytes more than unsigned: the manifest would have to end 64 bytes before the block.
  auto bad = footer::decode_for_file(footer::encode(f), unsigned_size + 64);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message() ==
        "footer: manifest (offset 12288, size 100) does not lie between image and signature block");
  f.flags = 0;
  CHECK(footer::decode_for_file(footer::encode(f), unsigned_size));
}

}  // namespace havre
