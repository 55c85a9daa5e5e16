#include "format/self.h"

#include <doctest/doctest.h>
#include <elf.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <limits>

#include "base/sha256.h"
#include "base/unique_fd.h"
#include "format/elf.h"
#include "format/endian.h"
#include "test_util.h"

namespace havre::runtime {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kMiB = 1024 * 1024;

std::string superblock_text(std::uint64_t bytes_used = 4096) {
  return std::string(test::as_chars(test::make_superblock(bytes_used)));
}

/// Opens `path` and scans it from `start`.
Result<std::pair<std::uint64_t, squashfs::Superblock>> scan(const std::string& path,
                                                            std::uint64_t start = 0) {
  auto fd = open_fd(path, O_RDONLY);
  REQUIRE(fd);
  return scan_for_image(fd->get(), path, start, fs::file_size(path));
}

using test::minimal_elf_header;

manifest::Manifest sample_manifest() {
  manifest::Manifest m;
  m.name = "hello";
  m.version = "1";
  m.cmd = {"/bin/cat", "/hello.txt"};
  m.env = {{"PATH", "/bin"}};
  m.build.havre_version = "test";
  return m;
}

// An appliance assembled by hand: [ELF header + zeros to 8192][mksquashfs image, padded][manifest][footer].
struct Assembled {
  std::string image;  // mksquashfs output
  std::uint64_t image_offset = 8192;
  std::uint64_t image_region = 0;  // image padded to 4096
  std::string manifest;            // to_json(sample_manifest())
  footer::Footer footer;
  std::string body;  // everything before the footer

  std::string with_footer(const footer::Footer& f) const {
    return body + std::string(test::as_chars(footer::encode(f)));
  }
  std::string file() const { return with_footer(footer); }
};

Assembled assemble(const std::string& work) {
  Assembled a;
  a.image = test::make_real_image(work);
  a.image_region = footer::align_up(a.image.size(), footer::kImageAlignment);
  a.manifest = manifest::to_json(sample_manifest());
  a.body = minimal_elf_header();
  a.body.resize(a.image_offset, '\0');
  a.body += a.image;
  a.body.resize(a.image_offset + a.image_region, '\0');
  a.footer.image_offset = a.image_offset;
  a.footer.image_size = a.image_region;
  a.footer.image_sha256 = sha256(test::as_byte_span(std::string_view(a.body).substr(a.image_offset)));
  a.footer.manifest_offset = a.body.size();
  a.footer.manifest_size = a.manifest.size();
  a.footer.manifest_sha256 = sha256(test::as_byte_span(a.manifest));
  a.body += a.manifest;
  return a;
}

Appliance opened(const std::string& path) {
  auto a = open_appliance(path);
  if (!a) FAIL(a.error().message());
  return std::move(*a);
}

}  // namespace

TEST_CASE("self: scan_for_image skips an invalid 'hsqs' and finds the valid superblock after it") {
  auto dir = test::temp_dir();
  const std::string path = dir.path() + "/file";
  std::string content(8192 + 4096, '\0');
  content.replace(1000, 4, "hsqs");
  content.replace(1004, 92, std::string(92, '\xff'));  // garbage: version 65535.65535
  content.replace(3000, 4, "hsqs");                    // a bare magic among zeros
  content.replace(8192, squashfs::kSuperblockSize, superblock_text(4096));
  test::write_file(path, content);

  auto hit = scan(path);
  REQUIRE_MESSAGE(hit, hit.error().message());
  CHECK(hit->first == 8192);
  CHECK(hit->second.bytes_used == 4096);
  CHECK(hit->second.inodes == 3);

  SUBCASE("the scan starts at `start`") {
    auto later = scan(path, 8193);
    REQUIRE_FALSE(later);
    CHECK(later.error().message() == "no valid SquashFS image after offset 8193 of " + path);
  }
  SUBCASE("a start exactly at the superblock finds it") {
    auto exact = scan(path, 8192);
    REQUIRE_MESSAGE(exact, exact.error().message());
    CHECK(exact->first == 8192);
  }
}

TEST_CASE("self: scan_for_image finds a magic split across the 4 MiB read boundary") {
  auto dir = test::temp_dir();
  const std::string path = dir.path() + "/file";
  for (std::uint64_t at : {4 * kMiB - 4, 4 * kMiB - 3, 4 * kMiB - 2, 4 * kMiB - 1, 4 * kMiB, 8 * kMiB - 5}) {
    CAPTURE(at);
    std::string content(at, '\0');
    content += superblock_text(4096);
    content.resize(at + 4096, '\0');
    test::write_file(path, content);
    auto hit = scan(path);
    REQUIRE_MESSAGE(hit, hit.error().message());
    CHECK(hit->first == at);
  }
}

TEST_CASE("self: scan_for_image finds the first valid superblock, not a later one") {
  auto dir = test::temp_dir();
  const std::string path = dir.path() + "/file";
  std::string content(6 * kMiB, '\0');
  content.replace(5 * kMiB, squashfs::kSuperblockSize, superblock_text(4096));
  content.replace(4 * kMiB + 100, squashfs::kSuperblockSize, superblock_text(4096));
  test::write_file(path, content);
  auto hit = scan(path);
  REQUIRE_MESSAGE(hit, hit.error().message());
  CHECK(hit->first == 4 * kMiB + 100);
}

TEST_CASE("self: scan_for_image without a valid superblock") {
  auto dir = test::temp_dir();
  const std::string path = dir.path() + "/file";
  SUBCASE("zeros only") {
    test::write_file(path, std::string(10000, '\0'));
    auto hit = scan(path);
    REQUIRE_FALSE(hit);
    CHECK(hit.error().message() == "no valid SquashFS image after offset 0 of " + path);
  }
  SUBCASE("a rejected candidate is named") {
    std::string content(10000, '\0');
    auto bad = test::make_superblock(4096);
    store_le<std::uint16_t>(bad, test::SbField::kCompression, 9);
    content.replace(1234, bad.size(), test::as_chars(bad));
    test::write_file(path, content);
    auto hit = scan(path);
    REQUIRE_FALSE(hit);
    CHECK(hit.error().message() ==
          "no valid SquashFS image after offset 0 of " + path +
              " (last candidate rejected: squashfs superblock: unknown compressor 9 at "
              "offset 1234)");
  }
  SUBCASE("a superblock whose image runs past the end of the file") {
    std::string content(4096, '\0');
    content += superblock_text(8192);
    content.resize(4096 + 8191, '\0');
    test::write_file(path, content);
    auto hit = scan(path);
    REQUIRE_FALSE(hit);
    CHECK(hit.error().message().find("no valid SquashFS image") != std::string::npos);
    CHECK(hit.error().message().find("bytes_used 8192 runs past the end of the file at offset 4096") !=
          std::string::npos);
  }
  SUBCASE("a magic too close to the end to hold a superblock") {
    std::string content(5000, '\0');
    content += "hsqs";
    test::write_file(path, content);
    auto hit = scan(path);
    REQUIRE_FALSE(hit);
    CHECK(hit.error().message() == "no valid SquashFS image after offset 0 of " + path);
  }
  SUBCASE("an empty file") {
    test::write_file(path, "");
    auto hit = scan(path);
    REQUIRE_FALSE(hit);
    CHECK(hit.error().message().find("no valid SquashFS image") != std::string::npos);
  }
}

TEST_CASE("self: elf::image_end") {
  auto dir = test::temp_dir();
  SUBCASE("the test binary itself ends where its file ends") {
    auto fd = open_fd("/proc/self/exe", O_RDONLY);
    REQUIRE(fd);
    auto end = elf::image_end(fd->get(), "/proc/self/exe");
    REQUIRE_MESSAGE(end, end.error().message());
    CHECK(*end == fs::file_size("/proc/self/exe"));
  }
  SUBCASE("bytes appended to an ELF file are not part of it") {
    const std::string self = test::read_file("/proc/self/exe");
    const std::string path = dir.path() + "/appended";
    test::write_file(path, self + std::string(100, 'A'));
    auto fd = open_fd(path, O_RDONLY);
    REQUIRE(fd);
    auto end = elf::image_end(fd->get(), path);
    REQUIRE_MESSAGE(end, end.error().message());
    CHECK(*end == self.size());
  }
  SUBCASE("a minimal header") {
    const std::string path = dir.path() + "/minimal";
    test::write_file(path, minimal_elf_header() + std::string(1000, '\0'));
    auto fd = open_fd(path, O_RDONLY);
    REQUIRE(fd);
    auto end = elf::image_end(fd->get(), path);
    REQUIRE_MESSAGE(end, end.error().message());
    CHECK(*end == 64);
  }
  SUBCASE("segments and sections extend the end; SHT_NOBITS sections do not") {
    // [ehdr 0..64][3 section headers 64..256][1 program header 256..312] ... 1000 bytes in all.
    std::string file = minimal_elf_header();
    file.resize(1000, '\0');
    auto b = std::as_writable_bytes(std::span(file.data(), file.size()));
    store_le<std::uint64_t>(b, offsetof(Elf64_Ehdr, e_shoff), 64);
    store_le<std::uint16_t>(b, offsetof(Elf64_Ehdr, e_shnum), 3);
    store_le<std::uint64_t>(b, offsetof(Elf64_Ehdr, e_phoff), 256);
    store_le<std::uint16_t>(b, offsetof(Elf64_Ehdr, e_phnum), 1);
    auto section = [&](int i, std::uint32_t type, std::uint64_t offset, std::uint64_t size) {
      const size_t at = 64 + i * sizeof(Elf64_Shdr);
      store_le<std::uint32_t>(b, at + offsetof(Elf64_Shdr, sh_type), type);
      store_le<std::uint64_t>(b, at + offsetof(Elf64_Shdr, sh_offset), offset);
      store_le<std::uint64_t>(b, at + offsetof(Elf64_Shdr, sh_size), size);
    };
    section(1, SHT_PROGBITS, 450, 100);    // ends at 550
    section(2, SHT_NOBITS, 550, 1 << 30);  // .bss: no file bytes
    store_le<std::uint32_t>(b, 256 + offsetof(Elf64_Phdr, p_type), PT_LOAD);
    store_le<std::uint64_t>(b, 256 + offsetof(Elf64_Phdr, p_offset), 0);
    store_le<std::uint64_t>(b, 256 + offsetof(Elf64_Phdr, p_filesz), 400);
    const std::string path = dir.path() + "/crafted";
    test::write_file(path, file);
    auto fd = open_fd(path, O_RDONLY);
    REQUIRE(fd);
    auto end = elf::image_end(fd->get(), path);
    REQUIRE_MESSAGE(end, end.error().message());
    CHECK(*end == 550);

    SUBCASE("a segment reaching further") {
      store_le<std::uint64_t>(b, 256 + offsetof(Elf64_Phdr, p_filesz), 700);
      test::write_file(path, file);
      auto fd2 = open_fd(path, O_RDONLY);
      REQUIRE(fd2);
      auto end2 = elf::image_end(fd2->get(), path);
      REQUIRE_MESSAGE(end2, end2.error().message());
      CHECK(*end2 == 700);
    }
  }
  SUBCASE("not an ELF file") {
    const std::string path = dir.path() + "/text";
    test::write_file(path, std::string(200, 'x'));
    auto fd = open_fd(path, O_RDONLY);
    REQUIRE(fd);
    auto end = elf::image_end(fd->get(), path);
    REQUIRE_FALSE(end);
    CHECK(end.error().message() == path + ": not an ELF file");
  }
  SUBCASE("a 32-bit ELF file") {
    std::string header = minimal_elf_header();
    header[EI_CLASS] = ELFCLASS32;
    const std::string path = dir.path() + "/elf32";
    test::write_file(path, header);
    auto fd = open_fd(path, O_RDONLY);
    REQUIRE(fd);
    auto end = elf::image_end(fd->get(), path);
    REQUIRE_FALSE(end);
    CHECK(end.error().message() == path + ": not a 64-bit little-endian ELF file");
  }
  SUBCASE("a file shorter than an ELF header") {
    const std::string path = dir.path() + "/short";
    test::write_file(path,
                     "\x7f"
                     "ELF");
    auto fd = open_fd(path, O_RDONLY);
    REQUIRE(fd);
    auto end = elf::image_end(fd->get(), path);
    REQUIRE_FALSE(end);
    CHECK(end.error().message().rfind("reading ELF header: read " + path, 0) == 0);
  }
  SUBCASE("a truncated ELF file") {
    const std::string self = test::read_file("/proc/self/exe");
    const std::string path = dir.path() + "/truncated";
    test::write_file(path, self.substr(0, self.size() / 2));
    auto fd = open_fd(path, O_RDONLY);
    REQUIRE(fd);
    auto end = elf::image_end(fd->get(), path);
    REQUIRE_FALSE(end);
    CHECK(end.error().message() == path + ": ELF headers point past the end of the file");
  }
  SUBCASE("section headers at an offset near UINT64_MAX") {
    std::string header = minimal_elf_header();
    store_le<std::uint64_t>(std::as_writable_bytes(std::span(header.data(), header.size())),
                            offsetof(Elf64_Ehdr, e_shoff), std::numeric_limits<std::uint64_t>::max() - 10);
    store_le<std::uint16_t>(std::as_writable_bytes(std::span(header.data(), header.size())),
                            offsetof(Elf64_Ehdr, e_shnum), 1);
    const std::string path = dir.path() + "/huge";
    test::write_file(path, header + std::string(1000, '\0'));
    auto fd = open_fd(path, O_RDONLY);
    REQUIRE(fd);
    auto end = elf::image_end(fd->get(), path);
    REQUIRE_FALSE(end);
    CHECK(end.error().message() == path + ": ELF headers point past the end of the file");
  }
}

TEST_CASE("self: open_appliance") {
  auto dir = test::temp_dir();
  const Assembled a = assemble(dir.path());
  REQUIRE(a.image.size() % 4096 == 0);
  const std::string path = dir.path() + "/app";

  SUBCASE("located by the footer") {
    test::write_file(path, a.file());
    const Appliance app = opened(path);
    CHECK(app.located_by == LocatedBy::kFooter);
    CHECK(app.footer_problem.empty());
    CHECK(app.path == path);
    CHECK(app.file_size == a.file().size());
    REQUIRE(app.footer.has_value());
    CHECK(app.footer->image_sha256 == a.footer.image_sha256);
    CHECK(app.image_offset == 8192);
    CHECK(app.image_size == a.image_region);
    CHECK(app.superblock.major == 4);
    CHECK(app.superblock.compression == 1);
    CHECK(app.superblock.bytes_used <= a.image.size());
    CHECK(app.manifest_offset == a.footer.manifest_offset);
    CHECK(app.manifest_size == a.manifest.size());
    REQUIRE(app.manifest.has_value());
    CHECK(app.manifest->name == "hello");
    CHECK(app.manifest->cmd == sample_manifest().cmd);
    CHECK(app.manifest_problem.empty());
    CHECK(app.fd.valid());
  }
  SUBCASE("without its footer, found by scanning from the end of the ELF header") {
    const std::string file = a.file();
    test::write_file(path, file.substr(0, file.size() - footer::kSize));
    const Appliance app = opened(path);
    CHECK(app.located_by == LocatedBy::kScan);
    CHECK(app.footer_problem == "footer: bad magic");
    CHECK_FALSE(app.footer.has_value());
    CHECK(app.image_offset == 8192);
    CHECK(app.image_size == app.superblock.bytes_used);
    CHECK(app.manifest_offset == a.footer.manifest_offset);
    REQUIRE_MESSAGE(app.manifest.has_value(), app.manifest_problem);
    CHECK(app.manifest->name == "hello");
    CHECK(app.manifest->env == sample_manifest().env);
    // The JSON value ends at its closing brace; to_json's trailing newline is outside it.
    CHECK(app.manifest_size == a.manifest.size() - 1);
  }
  SUBCASE("a manifest that does not match the footer's sha256 falls back to the scan") {
    footer::Footer f = a.footer;
    f.manifest_sha256[0] ^= 1;
    test::write_file(path, a.with_footer(f));
    const Appliance app = opened(path);
    CHECK(app.located_by == LocatedBy::kScan);
    CHECK(app.footer_problem == "manifest does not match its sha256 in the footer");
    CHECK(app.image_offset == 8192);
    REQUIRE_MESSAGE(app.manifest.has_value(), app.manifest_problem);
    CHECK(app.manifest->name == "hello");
  }
  SUBCASE("a footer pointing at no image falls back to the scan") {
    footer::Footer f = a.footer;
    f.image_offset = 4096;
    f.image_size = a.image_region + 4096;
    test::write_file(path, a.with_footer(f));
    const Appliance app = opened(path);
    CHECK(app.located_by == LocatedBy::kScan);
    CHECK(app.footer_problem == "footer points at no image: squashfs superblock: bad magic");
    CHECK(app.image_offset == 8192);
  }
  SUBCASE("a footer whose image size is not padded to 4096 bytes") {
    footer::Footer f = a.footer;
    f.image_size = 96;
    test::write_file(path, a.with_footer(f));
    const Appliance app = opened(path);
    CHECK(app.located_by == LocatedBy::kScan);
    CHECK(app.footer_problem == "footer: image size 96 is not a multiple of 4096");
  }
  SUBCASE("a damaged footer") {
    std::string file = a.file();
    file[file.size() - 100] ^= 1;
    test::write_file(path, file);
    const Appliance app = opened(path);
    CHECK(app.located_by == LocatedBy::kScan);
    CHECK(app.footer_problem == "footer: bad checksum");
    CHECK(app.image_offset == 8192);
  }
  SUBCASE("an image without a manifest after it") {
    test::write_file(path, a.body.substr(0, a.image_offset + a.image_region));
    const Appliance app = opened(path);
    CHECK(app.located_by == LocatedBy::kScan);
    CHECK_FALSE(app.manifest.has_value());
    CHECK(app.manifest_problem == "no manifest after the image");
  }
  SUBCASE("an image followed by garbage") {
    test::write_file(path, a.body.substr(0, a.image_offset + a.image_region) + "garbage");
    const Appliance app = opened(path);
    CHECK(app.located_by == LocatedBy::kScan);
    CHECK_FALSE(app.manifest.has_value());
    CHECK(app.manifest_problem == "manifest: not found after the image");
  }
  SUBCASE("an ELF file with no image") {
    test::write_file(path, minimal_elf_header() + std::string(10000, '\0'));
    auto app = open_appliance(path);
    REQUIRE_FALSE(app);
    CHECK(app.error().message() ==
          path +
              " is not a havre appliance (footer: bad magic): no valid SquashFS image "
              "after offset 64 of " +
              path);
  }
  SUBCASE("a file that is not ELF, with no footer") {
    test::write_file(path, std::string(10000, 'x'));
    auto app = open_appliance(path);
    REQUIRE_FALSE(app);
    CHECK(app.error().message() ==
          path + " is not a havre appliance (footer: bad magic): " + path + ": not an ELF file");
  }
  SUBCASE("a missing file") {
    auto app = open_appliance(path);
    REQUIRE_FALSE(app);
    CHECK(app.error().message() == "open " + path + ": No such file or directory");
  }
}

TEST_CASE("self: open_self on a binary with nothing appended") {
  auto app = open_self();
  REQUIRE_FALSE(app);
  const std::string real = fs::read_symlink("/proc/self/exe").string();
  CHECK(app.error().message().rfind(real + " is not a havre appliance (", 0) == 0);
  CHECK(app.error().message().find("no valid SquashFS image after offset " +
                                   std::to_string(fs::file_size(real))) != std::string::npos);
}

}  // namespace havre::runtime
