// Mounting the appliance's image without root: a FUSE file system served from inside the runtime by
// libsquashfuse's low-level operations (statically linked), in a thread of the container's init. The
// server lives in the container's process tree -- no daemon, no fusermount, no setuid helper, no fd
// leaked to the command -- so it ends with the container.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "format/self.h"

namespace havre::runtime {

/// Mounts the image of `app` read-only on `target` (FUSE, in the current user and mount namespaces,
/// where we hold CAP_SYS_ADMIN) and starts serving it. `uid`/`gid` are our ids in the namespace.
/// Its server threads hold no capabilities.
Status mount_image_fuse(const Appliance& app, const std::string& target, unsigned uid, unsigned gid);

/// The fds the server threads of this process use (the image, /dev/fuse); empty when there are none.
/// The init keeps these and closes every other (init.cpp).
std::vector<int> fuse_server_fds();

}  // namespace havre::runtime
