#include "image.h"

#include <sys/mount.h>
#include <unistd.h>

#include "fuse.h"
#include "loop.h"
#include "mount.h"

namespace havre::runtime {

Status mount_image(const Appliance& app, const std::string& target, bool rootless) {
  if (rootless) return mount_image_fuse(app, target, ::getuid(), ::getgid());
  auto loop = LoopDevice::attach(app.fd.get(), app.image_offset, app.image_size, app.path);
  if (!loop) return loop.error();
  if (auto ok = mount_fs(loop->path(), target, "squashfs", MS_RDONLY | MS_NODEV | MS_NOSUID); !ok) return ok;
  loop->close();  // the mount holds the device now; AUTOCLEAR detaches it after the last unmount
  return {};
}

}  // namespace havre::runtime
