// Mounting the appliance's SquashFS image read-only: a loop device when root (kernel squashfs).
// The rootless backend (FUSE) slots in here, chosen at run time.
#pragma once

#include <string>

#include "base/error.h"
#include "self.h"

namespace havre::runtime {

/// Mounts the image of `app` on `target` (ro,nodev,nosuid): a loop device and kernel squashfs as root,
/// FUSE served by this process in a user namespace (`rootless`). Must run inside the private mount
/// namespace: the mount, and with it the loop device (AUTOCLEAR) or the FUSE connection, dies with it.
Status mount_image(const Appliance& app, const std::string& target, bool rootless);

}  // namespace havre::runtime
