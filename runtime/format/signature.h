// The signature block: an ed25519 signature over the footer, which holds the image's and the manifest's
// sha256. Present when the footer has footer::kFlagSigned; it sits right before the footer.
// Layout (docs/format.md), kBlockSize bytes, integers little-endian:
//   0  [8]  magic "HAVRESIG"          8  u32 algorithm (1 = ed25519)    12  u32 block size (128)
//  16  [8]  key id = sha256(public key)[0..7]                          24  [32] ed25519 public key
//  56  [64] ed25519 signature of message(footer)                      120  [8]  zero
// Signed message: kDomain (19 bytes, NUL included) + footer bytes 0..111 (all but checksum and magic).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "format/footer.h"

namespace havre::signature {

inline constexpr std::size_t kBlockSize = footer::kSignatureBlockSize;
inline constexpr std::array<char, 8> kMagic = {'H', 'A', 'V', 'R', 'E', 'S', 'I', 'G'};
inline constexpr std::uint32_t kAlgorithmEd25519 = 1;
/// Domain separation: these bytes are never signed as anything but a havre footer.
inline constexpr std::string_view kDomain{"havre-signature-v1\0", 19};
/// Footer bytes covered by the signature (the checksum and magic after them derive from them or are fixed).
inline constexpr std::size_t kSignedFooterBytes = 112;

using PublicKey = std::array<std::uint8_t, 32>;
using SecretKey = std::array<std::uint8_t, 64>;  // libsodium's: seed || public key
using Signature = std::array<std::uint8_t, 64>;
using KeyId = std::array<std::uint8_t, 8>;

struct Block {
  KeyId key_id{};
  PublicKey public_key{};
  Signature signature{};
};

/// The first 8 bytes of sha256(public key): a short name for a key, shown by info and verify.
KeyId key_id(const PublicKey& key);
/// The public half of a secret key.
PublicKey public_key_of(const SecretKey& key);

std::array<std::byte, kBlockSize> encode(const Block& block);
/// Checks size, magic, algorithm, block size, the key id against the public key and the zero padding.
/// Says nothing about whether the signature is valid (verify()).
Result<Block> decode(std::span<const std::byte> bytes);

/// Reads and decodes the block that ends kBlockSize bytes before the footer of a file of `file_size` bytes.
Result<Block> read_block(int fd, const std::string& path, std::uint64_t file_size);

/// The block of a file whose footer `f` says it is signed (not verified), or why it is unusable;
/// nothing for an unsigned footer. Read on demand (info, verify), never at start-up.
struct FoundBlock {
  std::optional<Block> block;
  std::string problem;  // signed, but the block is unusable
};
FoundBlock find_block(int fd, const std::string& path, std::uint64_t file_size, const footer::Footer& f);

/// kDomain followed by the first kSignedFooterBytes of the encoded footer.
std::vector<std::byte> message(std::span<const std::byte> footer_bytes);
/// A block signing `footer_bytes` (an encoded footer whose flags already include kFlagSigned).
Block sign(const SecretKey& key, std::span<const std::byte> footer_bytes);
/// Whether block.signature is a valid signature of `footer_bytes` by block.public_key.
bool verify(const Block& block, std::span<const std::byte> footer_bytes);

/// Signs `f` (setting kFlagSigned): the bytes that end a signed appliance, signature block then footer.
std::array<std::byte, kBlockSize + footer::kSize> signed_trailer(footer::Footer f, const SecretKey& key);

}  // namespace havre::signature
