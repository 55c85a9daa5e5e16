// Writing the appliance file: runtime, padding, image, manifest, footer -- atomically.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"
#include "format/footer.h"
#include "format/signature.h"

namespace havre::pack {

/// copy_file_range (or read and write, across filesystems) until `size` bytes have moved (or the source ends, for size UINT64_MAX); `what` names
/// the copy in errors.
Status copy_range(int in, std::uint64_t in_off, int out, std::uint64_t out_off, std::uint64_t size,
                  const std::string& what);

/// An appliance being written under a temporary name; it replaces `target` only in commit().
class ApplianceWriter {
 public:
  /// Checks the runtime stub and creates the empty `temp`; the stub is copied in by finish().
  static Result<ApplianceWriter> start(const std::string& temp, const std::string& target,
                                       const std::string& runtime);
  /// Where the image must start (a multiple of footer::kImageAlignment).
  std::uint64_t image_offset() const { return image_offset_; }
  const std::string& temp_path() const { return temp_; }
  const std::string& target_path() const { return target_; }
  /// Copies a ready image (the image cache's) to image_offset(), in place of mksquashfs.
  Status copy_image_from(const std::string& image);
  /// Copies the image written at image_offset() out to `path` (for the image cache).
  Status copy_image_to(const std::string& path);
  /// After the image has been written at image_offset(): writes the stub before it, pads the image,
  /// hashes it, appends the manifest, the signature block when `key` is given, and the footer.
  /// Returns the footer written.
  Result<footer::Footer> finish(const std::string& manifest_json, const signature::SecretKey* key = nullptr);
  /// fsync, chmod 0755, rename over the target, fsync the directory.
  Status commit();

 private:
  ApplianceWriter(UniqueFd fd, UniqueFd runtime_fd, std::string temp, std::string target, std::string runtime,
                  std::uint64_t runtime_size, std::uint64_t image_offset)
      : fd_(std::move(fd)),
        runtime_fd_(std::move(runtime_fd)),
        temp_(std::move(temp)),
        target_(std::move(target)),
        runtime_(std::move(runtime)),
        runtime_size_(runtime_size),
        image_offset_(image_offset) {}
  Status write_runtime();
  UniqueFd fd_, runtime_fd_;
  std::string temp_, target_, runtime_;
  std::uint64_t runtime_size_ = 0;
  std::uint64_t image_offset_ = 0;
};

}  // namespace havre::pack
