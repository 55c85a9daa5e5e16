#include "base/sha256.h"

#include <sodium.h>
#include <unistd.h>

#include <vector>

namespace havre {

static_assert(sizeof(crypto_hash_sha256_state) <= 128);

Sha256::Sha256() { crypto_hash_sha256_init(reinterpret_cast<crypto_hash_sha256_state*>(state_)); }

void Sha256::update(std::span<const std::byte> data) {
  crypto_hash_sha256_update(reinterpret_cast<crypto_hash_sha256_state*>(state_),
                            reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

Digest Sha256::finish() {
  Digest out{};
  crypto_hash_sha256_final(reinterpret_cast<crypto_hash_sha256_state*>(state_), out.data());
  return out;
}

Digest sha256(std::span<const std::byte> data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

Result<Digest> sha256_fd_range(int fd, std::uint64_t offset, std::uint64_t size, const std::string& path) {
  Sha256 h;
  std::vector<std::byte> buf(1 << 20);
  while (size > 0) {
    size_t want = size < buf.size() ? size : buf.size();
    ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read " + path);
    }
    if (n == 0) return error("read " + path + ": unexpected end of file");
    h.update(std::span(buf.data(), static_cast<size_t>(n)));
    offset += n;
    size -= n;
  }
  return h.finish();
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

}  // namespace havre
