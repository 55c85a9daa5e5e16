// libFuzzer target: finding the image in an appliance file (runtime/self.*, format/elf.*,
// format/superblock.*), the runtime's first contact with a file that may be damaged or hostile.
//
// Input: [control u8][the whole appliance file]
//   The file goes into a memfd and is opened by path (/proc/self/fd/N) with the runtime's own
//   open_appliance(), so the real pread loops run: the footer, the superblock and manifest it names,
//   and without a usable footer the ELF-size computation and the superblock scan.
//   control: fuzz::kFixChecksum / kFixManifest (fuzz_util.h) repair the footer first, so mutated
//   footers reach the superblock and manifest reads behind their SHA-256 checks.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/io.h"
#include "format/elf.h"
#include "format/superblock.h"
#include "fuzz_util.h"
#include "format/self.h"

namespace {

using namespace havre;

// One memfd for the whole run, rewritten for every input.
int appliance_fd() {
  static const int fd = [] {
    const int fd = ::memfd_create("fuzz-appliance", MFD_CLOEXEC);
    if (fd < 0) std::abort();
    return fd;
  }();
  return fd;
}

void locate_checks(const std::string& path, std::uint64_t file_size) {
  auto a = runtime::open_appliance(path);
  if (!a) return;
  HAVRE_FUZZ_CHECK(a->file_size == file_size);
  const std::uint64_t used = a->superblock.bytes_used;
  HAVRE_FUZZ_CHECK(a->image_offset <= file_size && used <= file_size - a->image_offset);
  if (a->located_by == runtime::LocatedBy::kFooter) {
    // The footer path accepts nothing it has not checked: aligned image holding the superblock's
    // bytes, a manifest that parsed.
    HAVRE_FUZZ_CHECK(a->footer && a->manifest);
    HAVRE_FUZZ_CHECK(a->image_offset % footer::kImageAlignment == 0 && used <= a->image_size);
    HAVRE_FUZZ_CHECK(a->manifest_offset >= a->image_offset + a->image_size);
    HAVRE_FUZZ_CHECK(a->manifest_offset <= file_size && a->manifest_size <= file_size - a->manifest_offset);
  } else {
    // The scan never looks inside the stub's own ELF image.
    auto elf_end = elf::image_end(a->fd.get(), path);
    HAVRE_FUZZ_CHECK(elf_end && a->image_offset >= *elf_end);
    HAVRE_FUZZ_CHECK(!a->footer_problem.empty());
    HAVRE_FUZZ_CHECK(a->manifest || !a->manifest_problem.empty());
    if (a->manifest)
      HAVRE_FUZZ_CHECK(a->manifest_offset <= file_size && a->manifest_size <= file_size - a->manifest_offset);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  const std::uint8_t control = in.u8();
  const std::span<const std::byte> rest = in.rest();
  std::vector<std::byte> file(rest.begin(), rest.end());
  if (file.size() >= footer::kSize) fuzz::fix_footer(file, 0, control);

  const int fd = appliance_fd();
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (::ftruncate(fd, 0) != 0) std::abort();
  if (!write_all(fd, file, path) || ::lseek(fd, 0, SEEK_SET) != 0) std::abort();

  // The way the runtime opens itself: footer first, else ELF end + scan.
  locate_checks(path, file.size());

  // The scan on its own, from the very start: a hit is a superblock that validates where it was found.
  if (auto hit = runtime::scan_for_image(fd, path, 0, file.size())) {
    HAVRE_FUZZ_CHECK(hit->first < file.size() && file.size() - hit->first >= squashfs::kSuperblockSize);
    auto again = squashfs::parse(std::span(file).subspan(hit->first, squashfs::kSuperblockSize), hit->first,
                                 file.size());
    HAVRE_FUZZ_CHECK(again && again->bytes_used == hit->second.bytes_used);
  }

  // The validator directly, on the first bytes as if the image began the file.
  if (auto sb = squashfs::parse(file, 0, file.size())) {
    HAVRE_FUZZ_CHECK(sb->bytes_used >= squashfs::kSuperblockSize && sb->bytes_used <= file.size());
    HAVRE_FUZZ_CHECK(sb->block_size >= 4096 && sb->block_size <= (1u << 20));
    HAVRE_FUZZ_CHECK(!squashfs::compression_name(sb->compression).empty());
  }
  return 0;
}
