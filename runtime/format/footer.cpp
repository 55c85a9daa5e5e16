#include "format/footer.h"

#include <cstring>

#include "base/io.h"
#include "format/endian.h"

namespace havre::footer {
namespace {

constexpr size_t kChecksumAt = 112;
constexpr size_t kMagicAt = 120;

std::uint64_t checksum(std::span<const std::byte> bytes) {
  Digest d = sha256(bytes.first(kChecksumAt));
  return load_le<std::uint64_t>(std::as_bytes(std::span(d)), 0);
}

}  // namespace

std::array<std::byte, kSize> encode(const Footer& f) {
  std::array<std::byte, kSize> out{};
  std::span<std::byte> b(out);
  store_le<std::uint32_t>(b, 0, f.version);
  store_le<std::uint32_t>(b, 4, kSize);
  store_le<std::uint64_t>(b, 8, f.flags);
  store_le<std::uint64_t>(b, 16, f.image_offset);
  store_le<std::uint64_t>(b, 24, f.image_size);
  store_le<std::uint64_t>(b, 32, f.manifest_offset);
  store_le<std::uint64_t>(b, 40, f.manifest_size);
  std::memcpy(&out[48], f.image_sha256.data(), 32);
  std::memcpy(&out[80], f.manifest_sha256.data(), 32);
  store_le<std::uint64_t>(b, kChecksumAt, checksum(b));
  std::memcpy(&out[kMagicAt], kMagic.data(), kMagic.size());
  return out;
}

Result<Footer> decode(std::span<const std::byte> tail) {
  if (tail.size() < kSize)
    return error("footer: truncated (" + std::to_string(tail.size()) + " of " + std::to_string(kSize) +
                 " bytes)");
  std::span<const std::byte> b = tail.last(kSize);
  if (std::memcmp(&b[kMagicAt], kMagic.data(), kMagic.size()) != 0) return error("footer: bad magic");
  if (load_le<std::uint64_t>(b, kChecksumAt) != checksum(b)) return error("footer: bad checksum");
  Footer f;
  f.version = load_le<std::uint32_t>(b, 0);
  if (f.version != kVersion)
    return error("footer: format version " + std::to_string(f.version) +
                 " is not supported (this runtime reads version " + std::to_string(kVersion) + ")");
  if (load_le<std::uint32_t>(b, 4) != kSize) return error("footer: bad footer size");
  f.flags = load_le<std::uint64_t>(b, 8);
  if ((f.flags & ~kKnownFlags) != 0) return error("footer: unknown flags");
  f.image_offset = load_le<std::uint64_t>(b, 16);
  f.image_size = load_le<std::uint64_t>(b, 24);
  f.manifest_offset = load_le<std::uint64_t>(b, 32);
  f.manifest_size = load_le<std::uint64_t>(b, 40);
  std::memcpy(f.image_sha256.data(), &b[48], 32);
  std::memcpy(f.manifest_sha256.data(), &b[80], 32);
  return f;
}

Result<Footer> decode_for_file(std::span<const std::byte> tail, std::uint64_t file_size) {
  auto f = decode(tail);
  if (!f) return f;
  // Regions must be ordered and disjoint: image, then manifest, then the signature block (if signed)
  // and the footer at the very end. Each comparison is written so that no addition can overflow.
  if (file_size < f->trailer_size())
    return error(f->is_signed() ? "footer: file is shorter than a signature block and a footer"
                                : "footer: file is shorter than a footer");
  // Where the manifest must end: at the footer, or at the signature block before it.
  const std::uint64_t trailer_at = file_size - f->trailer_size();
  if (f->image_offset == 0 || f->image_offset % kImageAlignment != 0)
    return error("footer: image offset " + std::to_string(f->image_offset) +
                 " is not a positive multiple of " + std::to_string(kImageAlignment));
  if (f->image_size == 0 || f->image_offset > trailer_at || f->image_size > trailer_at - f->image_offset)
    return error("footer: image (offset " + std::to_string(f->image_offset) + ", size " +
                 std::to_string(f->image_size) + ") lies outside the file (" + std::to_string(file_size) +
                 " bytes)");
  if (f->image_size % kImageAlignment != 0)
    return error("footer: image size " + std::to_string(f->image_size) + " is not a multiple of " +
                 std::to_string(kImageAlignment));
  if (f->manifest_offset < f->image_offset + f->image_size || f->manifest_offset > trailer_at ||
      f->manifest_size != trailer_at - f->manifest_offset)
    return error("footer: manifest (offset " + std::to_string(f->manifest_offset) + ", size " +
                 std::to_string(f->manifest_size) + ") does not lie between image and " +
                 (f->is_signed() ? "signature block" : "footer"));
  return f;
}

Result<Footer> read_from(int fd, const std::string& path) {
  auto size = file_size(fd, path);
  if (!size) return size.error();
  if (*size < kSize) return error("footer: " + path + " is shorter than a footer");
  std::array<std::byte, kSize> tail;
  if (auto ok = pread_exact(fd, tail, *size - kSize, path); !ok) return ok.error();
  return decode_for_file(tail, *size);
}

}  // namespace havre::footer
