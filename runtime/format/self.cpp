#include "format/self.h"

#include <cstring>
#include <string_view>
#include <vector>

#include "base/io.h"
#include "base/sha256.h"
#include "format/elf.h"

namespace havre::runtime {

namespace {

constexpr std::size_t kScanChunk = 4 << 20;
// A manifest is a few KiB; refuse to read absurd ones into memory.
constexpr std::uint64_t kMaxManifest = 16 << 20;

Result<squashfs::Superblock> read_superblock(const Appliance& a, std::uint64_t offset) {
  std::array<std::byte, squashfs::kSuperblockSize> sb;
  if (auto ok = pread_exact(a.fd.get(), sb, offset, a.path); !ok) return ok.error();
  return squashfs::parse(sb, offset, a.file_size);
}

Status locate_by_footer(Appliance& a) {
  auto f = footer::read_from(a.fd.get(), a.path);
  if (!f) return f.error();
  auto sb = read_superblock(a, f->image_offset);
  if (!sb) return sb.error().wrap("footer points at no image");
  if (sb->bytes_used > f->image_size) return error("footer: image size is smaller than the SquashFS image");
  if (f->manifest_size > kMaxManifest) return error("footer: manifest is implausibly large");
  std::string text(f->manifest_size, '\0');
  if (auto ok = pread_exact(a.fd.get(), std::as_writable_bytes(std::span(text)), f->manifest_offset, a.path);
      !ok)
    return ok.error();
  if (sha256(std::as_bytes(std::span(text))) != f->manifest_sha256)
    return error("manifest does not match its sha256 in the footer");
  auto m = manifest::from_json(text);
  if (!m) return m.error();
  a.located_by = LocatedBy::kFooter;
  a.image_offset = f->image_offset;
  a.image_size = f->image_size;
  a.superblock = *sb;
  a.manifest_offset = f->manifest_offset;
  a.manifest_size = f->manifest_size;
  a.manifest = std::move(*m);
  a.footer = *f;
  // The signature block (if any) is read only by info and verify (signature::find_block); a damaged
  // one does not make the footer unusable.
  return {};
}

Status locate_by_scan(Appliance& a) {
  auto start = elf::image_end(a.fd.get(), a.path);
  if (!start) return start.error();
  auto hit = scan_for_image(a.fd.get(), a.path, *start, a.file_size);
  if (!hit) return hit.error();
  a.located_by = LocatedBy::kScan;
  a.image_offset = hit->first;
  a.superblock = hit->second;
  a.image_size = hit->second.bytes_used;
  // The manifest follows the image, which havre-pack pads to the alignment boundary.
  a.manifest_offset = a.image_offset + footer::align_up(a.image_size, footer::kImageAlignment);
  if (a.manifest_offset >= a.file_size) {
    a.manifest_problem = "no manifest after the image";
    return {};
  }
  std::string text(std::min<std::uint64_t>(a.file_size - a.manifest_offset, kMaxManifest), '\0');
  auto n = pread_some(a.fd.get(), std::as_writable_bytes(std::span(text)), a.manifest_offset, a.path);
  if (!n) return n.error();
  text.resize(*n);
  auto m = manifest::from_json_prefix(text);
  if (!m) {
    a.manifest_problem = m.error().message();
    return {};
  }
  a.manifest = std::move(m->first);
  a.manifest_size = m->second;
  return {};
}

Result<Appliance> open_appliance_as(const std::string& open_path, const std::string& path) {
  Appliance a;
  a.path = path;
  // /proc/self/exe opens the very file we run from, even if it was renamed or its name replaced.
  int fd = ::open(open_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error("open " + path);
  a.fd.reset(fd);
  auto size = file_size(a.fd.get(), path);
  if (!size) return size.error();
  a.file_size = *size;

  auto by_footer = locate_by_footer(a);
  if (by_footer) return a;
  a.footer_problem = by_footer.error().message();
  if (auto ok = locate_by_scan(a); !ok)
    return ok.error().wrap(path + " is not a havre appliance (" + a.footer_problem + ")");
  return a;
}

}  // namespace

Result<std::pair<std::uint64_t, squashfs::Superblock>> scan_for_image(int fd, const std::string& path,
                                                                      std::uint64_t start,
                                                                      std::uint64_t file_size) {
  constexpr std::string_view kMagic("hsqs", 4);
  // No bigger than what is left of the file: a tail of a few KiB does not need 4 MiB zeroed.
  std::vector<std::byte> buf(start < file_size ? std::min<std::uint64_t>(kScanChunk, file_size - start) : 0);
  std::uint64_t pos = start;
  std::string last_rejection;
  while (pos < file_size) {
    auto n = pread_some(fd, buf, pos, path);
    if (!n) return n.error();
    if (*n < kMagic.size()) break;
    std::string_view view(reinterpret_cast<const char*>(buf.data()), *n);
    for (size_t at = view.find(kMagic); at != std::string_view::npos; at = view.find(kMagic, at + 1)) {
      std::array<std::byte, squashfs::kSuperblockSize> sb{};
      if (auto ok = pread_exact(fd, sb, pos + at, path); !ok) continue;  // too close to the end
      auto parsed = squashfs::parse(sb, pos + at, file_size);
      if (parsed) return std::pair{pos + at, *parsed};
      last_rejection = parsed.error().message() + " at offset " + std::to_string(pos + at);
    }
    if (*n < buf.size()) break;
    pos += *n - (kMagic.size() - 1);  // overlap so a magic split across reads is still seen
  }
  std::string why = "no valid SquashFS image after offset " + std::to_string(start) + " of " + path;
  if (!last_rejection.empty()) why += " (last candidate rejected: " + last_rejection + ")";
  return error(why);
}

Result<Appliance> open_self() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n < 0) return sys_error("readlink /proc/self/exe");
  return open_appliance_as("/proc/self/exe", std::string(buf, static_cast<size_t>(n)));
}

Result<Appliance> open_appliance(const std::string& path) { return open_appliance_as(path, path); }

}  // namespace havre::runtime
