// Loop devices: the image region of the appliance as a read-only block device (root mode).
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace havre::runtime {

/// An attached loop device. Attached with AUTOCLEAR: the kernel detaches it once it is neither open
/// nor mounted, so a killed runtime never leaves one behind.
class LoopDevice {
 public:
  /// Finds a free device (LOOP_CTL_GET_FREE) and binds `size` bytes (rounded up to 4 KiB) of `backing`
  /// at `offset` to it with LOOP_CONFIGURE (READ_ONLY|AUTOCLEAR|DIRECT_IO), retrying when another process takes the device
  /// first; falls back to LOOP_SET_FD + LOOP_SET_STATUS64 on kernels without LOOP_CONFIGURE.
  static Result<LoopDevice> attach(int backing, std::uint64_t offset, std::uint64_t size,
                                   const std::string& backing_name);
  const std::string& path() const { return path_; }
  /// Closing the device fd is what lets AUTOCLEAR detach it after the last unmount.
  void close() { fd_.reset(); }

 private:
  LoopDevice(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
};

}  // namespace havre::runtime
