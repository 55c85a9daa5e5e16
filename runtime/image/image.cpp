#include "image/image.h"

#include <sys/mount.h>
#include <unistd.h>

#include <cstdlib>

#include "image/fuse.h"
#include "image/loop.h"
#include "container/mount.h"

namespace havre::runtime {

ImageBackend choose_image_backend(bool rootless) {
  if (!rootless) return ImageBackend::kLoop;
  const char* force_extract = std::getenv("HAVRE_EXTRACT_AND_RUN");
  if (::access("/dev/fuse", R_OK | W_OK) != 0 || (force_extract && std::string(force_extract) == "1"))
    return ImageBackend::kExtracted;
  return ImageBackend::kFuse;
}

Result<std::string> mount_image(const Appliance& app, ImageBackend backend, const std::string& target,
                                const std::string& extracted) {
  switch (backend) {
    case ImageBackend::kLoop: {
      auto loop = LoopDevice::attach(app.fd.get(), app.image_offset, app.image_size, app.path);
      if (!loop) return loop.error();
      if (auto ok = mount_fs(loop->path(), target, "squashfs", MS_RDONLY | MS_NODEV | MS_NOSUID); !ok)
        return ok.error();
      loop->close();  // the mount holds the device now; AUTOCLEAR detaches it after the last unmount
      return target;
    }
    case ImageBackend::kFuse:
      if (auto ok = mount_image_fuse(app, target, ::getuid(), ::getgid()); !ok) return ok.error();
      return target;
    case ImageBackend::kExtracted:
      return extracted;
    case ImageBackend::kDirectory:
      break;
  }
  return error("no image to mount for a directory root");
}

}  // namespace havre::runtime
