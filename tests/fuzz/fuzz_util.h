// Shared by the libFuzzer targets: input splitting, a hard failure for broken invariants, and a footer
// repair that lets mutated footers get past their own checksum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

#include "base/sha256.h"
#include "format/endian.h"
#include "format/footer.h"

namespace havre::fuzz {

/// Control bits in the first input byte of the targets that take one.
inline constexpr std::uint8_t kFixChecksum = 1;  // recompute the footer's checksum and magic
inline constexpr std::uint8_t kFixManifest = 2;  // and its manifest_sha256, from the bytes it names

/// An invariant of the code under test does not hold: abort, so libFuzzer keeps the input.
#define HAVRE_FUZZ_CHECK(cond)                                                          \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

/// Reads the input front to back; past the end it yields zeros.
class Input {
 public:
  Input(const std::uint8_t* data, size_t size) : bytes_(reinterpret_cast<const std::byte*>(data), size) {}
  std::uint8_t u8() { return take(1).empty() ? 0 : std::to_integer<std::uint8_t>(bytes_[pos_ - 1]); }
  std::uint64_t u64() {
    std::span<const std::byte> b = take(8);
    return b.size() == 8 ? load_le<std::uint64_t>(b, 0) : 0;
  }
  std::span<const std::byte> rest() { return take(bytes_.size() - pos_); }

 private:
  std::span<const std::byte> take(size_t n) {
    n = std::min(n, bytes_.size() - pos_);
    std::span<const std::byte> out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  std::span<const std::byte> bytes_;
  size_t pos_ = 0;
};

/// Rewrites the footer at the end of `file` (file.size() >= footer::kSize) as a writer would: with
/// kFixManifest, manifest_sha256 becomes the hash of the manifest bytes the footer names when they lie
/// inside `file` (whose first byte is at `file_offset` of the whole file); with kFixChecksum, the
/// checksum and magic become right. The fuzzer mutates fields; this keeps SHA-256 from hiding them.
inline void fix_footer(std::span<std::byte> file, std::uint64_t file_offset, std::uint8_t control) {
  std::span<std::byte> f = file.last(footer::kSize);
  if (control & kFixManifest) {
    const std::uint64_t at = load_le<std::uint64_t>(f, 32), size = load_le<std::uint64_t>(f, 40);
    if (at >= file_offset && at - file_offset <= file.size() && size <= file.size() - (at - file_offset)) {
      const Digest d = sha256(file.subspan(at - file_offset, size));
      std::memcpy(&f[80], d.data(), d.size());
    }
  }
  if (control & kFixChecksum) {
    const Digest d = sha256(f.first(112));
    std::memcpy(&f[112], d.data(), 8);  // the first 8 digest bytes, read little-endian: stored as is
    std::memcpy(&f[120], footer::kMagic.data(), footer::kMagic.size());
  }
}

}  // namespace havre::fuzz
