#include "image/loop.h"

#include <linux/loop.h>
#include <sys/ioctl.h>
#include <time.h>

#include <cstdlib>
#include <cstring>
#include <random>

#include "base/log.h"

namespace havre::runtime {
namespace {

constexpr int kAttempts = 64;
// The largest logical block size a loop device gets (direct I/O takes the backing device's).
constexpr std::uint64_t kBlock = 4096;

// Another process may grab the device between GET_FREE and our configure (util-linux: "device stolen").
bool device_taken(int err) { return err == EBUSY || err == ENXIO || err == ENODEV; }

void backoff() {
  static thread_local std::minstd_rand rng(static_cast<unsigned>(::getpid()));
  const long ms = 1 + static_cast<long>(rng() % 20);
  struct timespec ts = {0, ms * 1000000L};
  ::nanosleep(&ts, nullptr);
}

// Pre-5.8 kernels: two steps, and the device is visible unconfigured in between.
int configure_legacy(int loop_fd, int backing, const loop_info64& info) {
  if (::ioctl(loop_fd, LOOP_SET_FD, backing) != 0) return errno;
  for (int i = 0; i < 10; ++i) {
    if (::ioctl(loop_fd, LOOP_SET_STATUS64, &info) == 0) return 0;
    if (errno != EAGAIN) break;
  }
  const int err = errno;
  ::ioctl(loop_fd, LOOP_CLR_FD, 0);
  return err;
}

}  // namespace

Result<LoopDevice> LoopDevice::attach(int backing, std::uint64_t offset, std::uint64_t size,
                                      const std::string& backing_name) {
  auto control = open_fd("/dev/loop-control", O_RDWR);
  if (!control) return control.error();

  loop_config config{};
  config.fd = static_cast<__u32>(backing);
  config.info.lo_offset = offset;
  // A device that ends inside a block is refused by the block layer and squashfs ("Invalid argument"
  // at mount): a scanned image is bytes_used long, not padded. The image starts on a 4 KiB boundary
  // and what follows it (padding, the manifest) is never read by the filesystem.
  config.info.lo_sizelimit = (size + kBlock - 1) / kBlock * kBlock;
  config.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO;
  std::strncpy(reinterpret_cast<char*>(config.info.lo_file_name), backing_name.c_str(), LO_NAME_SIZE - 1);

  int last_err = 0;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const int n = ::ioctl(control->get(), LOOP_CTL_GET_FREE);
    if (n < 0) return sys_error("LOOP_CTL_GET_FREE on /dev/loop-control");
    const std::string path = "/dev/loop" + std::to_string(n);
    auto dev = open_fd(path, O_RDONLY);
    if (!dev) {
      if (device_taken(dev.error().errnum) || dev.error().errnum == ENOENT) {
        last_err = dev.error().errnum;
        backoff();
        continue;
      }
      return dev.error();
    }
    int err = ::ioctl(dev->get(), LOOP_CONFIGURE, &config) == 0 ? 0 : errno;
    if (err == EINVAL || err == ENOTTY) {
      // No LOOP_CONFIGURE (or a kernel rejecting DIRECT_IO in it): the two-step way, buffered.
      loop_info64 info = config.info;
      info.lo_flags &= ~LO_FLAGS_DIRECT_IO;
      err = configure_legacy(dev->get(), backing, info);
    }
    if (err == 0) {
      log::debug("attached %s at offset %llu", path.c_str(), static_cast<unsigned long long>(offset));
      return LoopDevice(std::move(*dev), path);
    }
    if (!device_taken(err)) return sys_error(err, "attach " + backing_name + " to " + path);
    last_err = err;
    backoff();
  }
  return sys_error(last_err, "attach " + backing_name + " to a loop device: every free device was taken (" +
                                 std::to_string(kAttempts) + " attempts)");
}

}  // namespace havre::runtime
