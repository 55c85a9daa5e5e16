// SHA-256 (libsodium), incremental, plus hex helpers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/error.h"

namespace havre {

using Digest = std::array<std::uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  void update(std::span<const std::byte> data);
  Digest finish();

 private:
  alignas(64) unsigned char state_[128];  // crypto_hash_sha256_state, kept opaque here
};

Digest sha256(std::span<const std::byte> data);

/// Hashes `size` bytes of fd starting at `offset` (pread, large buffers).
Result<Digest> sha256_fd_range(int fd, std::uint64_t offset, std::uint64_t size, const std::string& path);

std::string to_hex(std::span<const std::uint8_t> bytes);

}  // namespace havre
