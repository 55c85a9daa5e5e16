// Helpers shared by the unit tests: temp directories, whole-file I/O, child processes, and a hand-built
// SquashFS superblock.
#pragma once

#include <doctest/doctest.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "format/endian.h"
#include "format/keys.h"
#include "secret_key.h"
#include "format/superblock.h"
#include "tempdir.h"

namespace havre::test {

/// A new random Ed25519 key pair (libsodium).
inline signature::SecretKey new_secret_key() {
  auto key = keys::generate_secret_key();
  REQUIRE(key);
  return *key;
}

/// A fresh directory under $TMPDIR (default /tmp), removed with everything in it at scope exit.
inline pack::TempDir temp_dir() {
  const char* tmp = std::getenv("TMPDIR");
  auto dir = pack::TempDir::make(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "havre-unit-");
  if (!dir) FAIL(dir.error().message());
  return std::move(*dir);
}

inline void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  REQUIRE_MESSAGE(out.good(), "writing " << path);
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "reading " << path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::string_view as_chars(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

inline std::span<const std::byte> as_byte_span(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

/// Runs argv (no shell) with stdin from /dev/null; returns the exit status, 127 if exec failed.
/// stdout is captured into *out when given, else discarded; stderr is inherited.
inline int run(const std::vector<std::string>& argv, std::string* out = nullptr) {
  // Everything the child needs is prepared before fork(): it only calls async-signal-safe functions.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int pipefd[2];
  REQUIRE(::pipe2(pipefd, O_CLOEXEC) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, 0);
    ::dup2(out != nullptr ? pipefd[1] : null_fd, 1);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  std::string captured;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(pipefd[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    captured.append(buf, static_cast<size_t>(n));
  }
  ::close(pipefd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (out != nullptr) *out = captured;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Byte offsets of the SquashFS 4.0 superblock fields the parser reads.
struct SbField {
  static constexpr size_t kMagic = 0, kInodes = 4, kBlockSize = 12, kCompression = 20, kBlockLog = 22,
                          kMajor = 28, kMinor = 30, kBytesUsed = 40, kIdTable = 48, kInodeTable = 64,
                          kDirTable = 72, kFragments = 16, kNoIds = 26, kRootInode = 32, kXattrTable = 56,
                          kFragmentTable = 80, kLookupTable = 88;
};

/// A valid SquashFS 4.0 superblock (gzip, 128 KiB blocks) for an image of `bytes_used` bytes.
inline std::array<std::byte, squashfs::kSuperblockSize> make_superblock(std::uint64_t bytes_used = 4096) {
  std::array<std::byte, squashfs::kSuperblockSize> sb{};
  std::span<std::byte> b(sb);
  store_le<std::uint32_t>(b, SbField::kMagic, 0x73717368);
  store_le<std::uint32_t>(b, SbField::kInodes, 3);
  store_le<std::uint32_t>(b, SbField::kBlockSize, 131072);
  store_le<std::uint16_t>(b, SbField::kCompression, 1);
  store_le<std::uint16_t>(b, SbField::kBlockLog, 17);
  store_le<std::uint16_t>(b, SbField::kMajor, 4);
  store_le<std::uint16_t>(b, SbField::kMinor, 0);
  store_le<std::uint64_t>(b, SbField::kBytesUsed, bytes_used);
  store_le<std::uint64_t>(b, SbField::kInodeTable, 96);
  store_le<std::uint64_t>(b, SbField::kDirTable, 200);
  store_le<std::uint64_t>(b, SbField::kIdTable, 300);
  store_le<std::uint16_t>(b, SbField::kNoIds, 1);
  // No fragments, no export table, no xattrs.
  store_le<std::uint64_t>(b, SbField::kFragmentTable, ~std::uint64_t{0});
  store_le<std::uint64_t>(b, SbField::kLookupTable, ~std::uint64_t{0});
  store_le<std::uint64_t>(b, SbField::kXattrTable, ~std::uint64_t{0});
  return sb;
}

/// A minimal 64-bit little-endian ELF header with no program or section headers: image_end() is 64.
inline std::string minimal_elf_header() {
  Elf64_Ehdr h{};
  std::memcpy(h.e_ident, ELFMAG, SELFMAG);
  h.e_ident[EI_CLASS] = ELFCLASS64;
  h.e_ident[EI_DATA] = ELFDATA2LSB;
  h.e_ident[EI_VERSION] = EV_CURRENT;
  h.e_type = ET_EXEC;
  h.e_machine = EM_X86_64;
  h.e_version = EV_CURRENT;
  h.e_ehsize = sizeof(Elf64_Ehdr);
  h.e_phentsize = sizeof(Elf64_Phdr);
  h.e_shentsize = sizeof(Elf64_Shdr);
  return std::string(reinterpret_cast<const char*>(&h), sizeof h);
}

/// A real SquashFS image of a tiny tree (one file holding "hello\n"), made by mksquashfs in `work`.
inline std::string make_real_image(const std::string& work, const std::string& compression = "gzip") {
  const std::string tree = work + "/tree";
  REQUIRE(::mkdir(tree.c_str(), 0755) == 0);
  write_file(tree + "/hello.txt", "hello\n");
  const std::string image = work + "/image.sqfs";
  REQUIRE(run({"mksquashfs", tree, image, "-noappend", "-quiet", "-no-progress", "-all-root", "-comp",
               compression}) == 0);
  return read_file(image);
}

}  // namespace havre::test
