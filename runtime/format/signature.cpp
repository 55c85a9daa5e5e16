#include "format/signature.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "base/io.h"
#include "base/sha256.h"
#include "format/endian.h"

namespace havre::signature {
namespace {

constexpr size_t kAlgorithmAt = 8;
constexpr size_t kBlockSizeAt = 12;
constexpr size_t kKeyIdAt = 16;
constexpr size_t kPublicKeyAt = 24;
constexpr size_t kSignatureAt = 56;
constexpr size_t kPaddingAt = 120;

static_assert(crypto_sign_PUBLICKEYBYTES == std::tuple_size_v<PublicKey>);
static_assert(crypto_sign_SECRETKEYBYTES == std::tuple_size_v<SecretKey>);
static_assert(crypto_sign_BYTES == std::tuple_size_v<Signature>);
static_assert(kPaddingAt == kSignatureAt + crypto_sign_BYTES && kPaddingAt + 8 == kBlockSize);

// sodium_init() is idempotent; ed25519 signing and verification need no randomness and work without
// it, but libsodium asks for it before anything else.
bool sodium_ready() { return sodium_init() >= 0; }

}  // namespace

KeyId key_id(const PublicKey& key) {
  const Digest d = sha256(std::as_bytes(std::span(key)));
  KeyId id;
  std::copy_n(d.begin(), id.size(), id.begin());
  return id;
}

PublicKey public_key_of(const SecretKey& key) {
  PublicKey pk;
  crypto_sign_ed25519_sk_to_pk(pk.data(), key.data());
  return pk;
}

std::array<std::byte, kBlockSize> encode(const Block& block) {
  std::array<std::byte, kBlockSize> out{};
  std::span<std::byte> b(out);
  std::memcpy(&out[0], kMagic.data(), kMagic.size());
  store_le<std::uint32_t>(b, kAlgorithmAt, kAlgorithmEd25519);
  store_le<std::uint32_t>(b, kBlockSizeAt, kBlockSize);
  std::memcpy(&out[kKeyIdAt], block.key_id.data(), block.key_id.size());
  std::memcpy(&out[kPublicKeyAt], block.public_key.data(), block.public_key.size());
  std::memcpy(&out[kSignatureAt], block.signature.data(), block.signature.size());
  return out;
}

Result<Block> decode(std::span<const std::byte> bytes) {
  if (bytes.size() != kBlockSize)
    return error("signature block: " + std::to_string(bytes.size()) + " bytes, not " +
                 std::to_string(kBlockSize));
  if (std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0)
    return error("signature block: bad magic");
  const auto algorithm = load_le<std::uint32_t>(bytes, kAlgorithmAt);
  if (algorithm != kAlgorithmEd25519)
    return error("signature block: unknown algorithm " + std::to_string(algorithm) +
                 " (this runtime knows 1, ed25519)");
  if (load_le<std::uint32_t>(bytes, kBlockSizeAt) != kBlockSize)
    return error("signature block: bad block size");
  if (std::any_of(bytes.begin() + kPaddingAt, bytes.end(), [](std::byte c) { return c != std::byte{0}; }))
    return error("signature block: padding is not zero");
  Block block;
  std::memcpy(block.key_id.data(), &bytes[kKeyIdAt], block.key_id.size());
  std::memcpy(block.public_key.data(), &bytes[kPublicKeyAt], block.public_key.size());
  std::memcpy(block.signature.data(), &bytes[kSignatureAt], block.signature.size());
  if (block.key_id != key_id(block.public_key))
    return error("signature block: key id does not match its public key");
  return block;
}

Result<Block> read_block(int fd, const std::string& path, std::uint64_t file_size) {
  if (file_size < kBlockSize + footer::kSize)
    return error("signature block: " + path + " is too short for one");
  std::array<std::byte, kBlockSize> bytes;
  if (auto ok = pread_exact(fd, bytes, file_size - footer::kSize - kBlockSize, path); !ok) return ok.error();
  return decode(bytes);
}

FoundBlock find_block(int fd, const std::string& path, std::uint64_t file_size, const footer::Footer& f) {
  if (!f.is_signed()) return {};
  auto block = read_block(fd, path, file_size);
  if (!block) return {std::nullopt, block.error().message()};
  return {*block, ""};
}

std::vector<std::byte> message(std::span<const std::byte> footer_bytes) {
  std::vector<std::byte> m(kDomain.size() + kSignedFooterBytes);
  std::memcpy(m.data(), kDomain.data(), kDomain.size());
  std::memcpy(m.data() + kDomain.size(), footer_bytes.data(),
              std::min(footer_bytes.size(), kSignedFooterBytes));
  return m;
}

Block sign(const SecretKey& key, std::span<const std::byte> footer_bytes) {
  sodium_ready();
  const std::vector<std::byte> m = message(footer_bytes);
  Block block;
  block.public_key = public_key_of(key);
  block.key_id = key_id(block.public_key);
  crypto_sign_detached(block.signature.data(), nullptr, reinterpret_cast<const unsigned char*>(m.data()),
                       m.size(), key.data());
  return block;
}

bool verify(const Block& block, std::span<const std::byte> footer_bytes) {
  if (footer_bytes.size() < kSignedFooterBytes) return false;
  if (!sodium_ready()) return false;
  const std::vector<std::byte> m = message(footer_bytes);
  return crypto_sign_verify_detached(block.signature.data(), reinterpret_cast<const unsigned char*>(m.data()),
                                     m.size(), block.public_key.data()) == 0;
}

std::array<std::byte, kBlockSize + footer::kSize> signed_trailer(footer::Footer f, const SecretKey& key) {
  f.flags |= footer::kFlagSigned;
  const auto footer_bytes = footer::encode(f);
  const auto block = encode(sign(key, footer_bytes));
  std::array<std::byte, kBlockSize + footer::kSize> out;
  std::copy(block.begin(), block.end(), out.begin());
  std::copy(footer_bytes.begin(), footer_bytes.end(), out.begin() + kBlockSize);
  return out;
}

}  // namespace havre::signature
