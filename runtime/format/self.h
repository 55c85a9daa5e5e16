// Finding the image and manifest inside an appliance file: the footer in O(1), else a validated scan.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"
#include "format/footer.h"
#include "format/manifest.h"
#include "format/superblock.h"

namespace havre::runtime {

enum class LocatedBy { kFooter, kScan };

struct Appliance {
  std::string path;
  UniqueFd fd;  // O_RDONLY|O_CLOEXEC
  std::uint64_t file_size = 0;
  LocatedBy located_by = LocatedBy::kFooter;
  std::string footer_problem;            // why the footer was not used (scan only)
  std::optional<footer::Footer> footer;  // present when located by footer
  std::uint64_t image_offset = 0;
  std::uint64_t image_size = 0;  // footer: padded region; scan: superblock bytes_used
  squashfs::Superblock superblock;
  std::uint64_t manifest_offset = 0;
  std::uint64_t manifest_size = 0;
  std::optional<manifest::Manifest> manifest;
  std::string manifest_problem;  // why there is no manifest
};

/// Opens an appliance and locates its image: one pread of the footer, then the superblock and manifest
/// it points to (manifest sha256 checked). Without a usable footer, scans from the end of the ELF image.
Result<Appliance> open_appliance(const std::string& path);
/// open_appliance() on the running executable (/proc/self/exe), named by its real path in messages.
Result<Appliance> open_self();

/// Scans fd from `start` in large reads for the first offset holding a valid SquashFS superblock.
Result<std::pair<std::uint64_t, squashfs::Superblock>> scan_for_image(int fd, const std::string& path,
                                                                      std::uint64_t start,
                                                                      std::uint64_t file_size);

}  // namespace havre::runtime
