// The appliance's SquashFS image as the container's lower layer: a loop device when root (kernel
// squashfs), FUSE served by the init without root, or a tree extracted once into the user's cache.
// choose_image_backend() is the one place that decides; add a backend as a case there.
#pragma once

#include <string>

#include "base/error.h"
#include "format/self.h"
#include "container/spec.h"

namespace havre::runtime {

/// Root: the loop device. Rootless: FUSE, or the extracted tree when /dev/fuse is unusable or
/// HAVRE_EXTRACT_AND_RUN=1 asks for it (like AppImage's APPIMAGE_EXTRACT_AND_RUN).
ImageBackend choose_image_backend(bool rootless);

/// Makes the image of `app` available read-only (nodev,nosuid) through `backend` and returns the
/// lower directory: `target` for a mount, or `extracted` (the extracted tree, reached through an fd
/// the caller opened before the staging tmpfs hid it). Must run inside the private mount
/// namespace: the mount, and with it the loop device (AUTOCLEAR) or the FUSE connection, dies with it.
Result<std::string> mount_image(const Appliance& app, ImageBackend backend, const std::string& target,
                                const std::string& extracted);

}  // namespace havre::runtime
