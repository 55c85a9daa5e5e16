#include "format/elf.h"

#include <elf.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "base/io.h"
#include "format/endian.h"

namespace havre::elf {
namespace {

// Bounds for a header table we are willing to read; real binaries have a few dozen entries.
constexpr std::uint64_t kMaxTableBytes = 1 << 20;

}  // namespace

Result<std::uint64_t> image_end(int fd, const std::string& path) {
  auto size = file_size(fd, path);
  if (!size) return size.error();
  std::array<std::byte, sizeof(Elf64_Ehdr)> eh;
  if (auto ok = pread_exact(fd, eh, 0, path); !ok) return ok.error().wrap("reading ELF header");
  if (std::memcmp(eh.data(), ELFMAG, SELFMAG) != 0) return error(path + ": not an ELF file");
  if (std::to_integer<int>(eh[EI_CLASS]) != ELFCLASS64 || std::to_integer<int>(eh[EI_DATA]) != ELFDATA2LSB)
    return error(path + ": not a 64-bit little-endian ELF file");

  const std::span<const std::byte> h(eh);
  const auto phoff = load_le<std::uint64_t>(h, offsetof(Elf64_Ehdr, e_phoff));
  const auto shoff = load_le<std::uint64_t>(h, offsetof(Elf64_Ehdr, e_shoff));
  const auto phentsize = load_le<std::uint16_t>(h, offsetof(Elf64_Ehdr, e_phentsize));
  const auto phnum = load_le<std::uint16_t>(h, offsetof(Elf64_Ehdr, e_phnum));
  const auto shentsize = load_le<std::uint16_t>(h, offsetof(Elf64_Ehdr, e_shentsize));
  const auto shnum = load_le<std::uint16_t>(h, offsetof(Elf64_Ehdr, e_shnum));

  std::uint64_t end = sizeof(Elf64_Ehdr);
  auto extend = [&](std::uint64_t at, std::uint64_t len) -> Status {
    if (at > *size || len > *size - at) return error(path + ": ELF headers point past the end of the file");
    end = std::max(end, at + len);
    return {};
  };
  auto read_table = [&](std::uint64_t at, std::uint16_t entsize, std::uint16_t num,
                        size_t min_entsize) -> Result<std::vector<std::byte>> {
    const std::uint64_t bytes = std::uint64_t{entsize} * num;
    if (num != 0 && entsize < min_entsize) return error(path + ": bad ELF header table entry size");
    if (bytes > kMaxTableBytes) return error(path + ": ELF header table too large");
    if (auto ok = extend(at, bytes); !ok) return ok.error();
    std::vector<std::byte> table(bytes);
    if (auto ok = pread_exact(fd, table, at, path); !ok) return ok.error();
    return table;
  };

  auto ph = read_table(phoff, phentsize, phnum, sizeof(Elf64_Phdr));
  if (!ph) return ph.error();
  for (std::uint16_t i = 0; i < phnum; ++i) {
    std::span<const std::byte> p(ph->data() + std::size_t{i} * phentsize, phentsize);
    auto ok = extend(load_le<std::uint64_t>(p, offsetof(Elf64_Phdr, p_offset)),
                     load_le<std::uint64_t>(p, offsetof(Elf64_Phdr, p_filesz)));
    if (!ok) return ok.error();
  }
  auto sh = read_table(shoff, shentsize, shnum, sizeof(Elf64_Shdr));
  if (!sh) return sh.error();
  for (std::uint16_t i = 0; i < shnum; ++i) {
    std::span<const std::byte> s(sh->data() + std::size_t{i} * shentsize, shentsize);
    if (load_le<std::uint32_t>(s, offsetof(Elf64_Shdr, sh_type)) == SHT_NOBITS) continue;
    auto ok = extend(load_le<std::uint64_t>(s, offsetof(Elf64_Shdr, sh_offset)),
                     load_le<std::uint64_t>(s, offsetof(Elf64_Shdr, sh_size)));
    if (!ok) return ok.error();
  }
  return end;
}

}  // namespace havre::elf
