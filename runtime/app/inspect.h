// `./app mount DIR`: the image mounted read-only for inspection until interrupted.
#pragma once

#include <string>

#include "base/error.h"
#include "format/self.h"

namespace havre::runtime {

/// As root: a loop device and kernel squashfs on DIR in the caller's mount namespace, unmounted on
/// SIGINT/SIGTERM/SIGHUP (a SIGKILL leaves the mount; `umount DIR` then detaches the loop device too).
/// Without root: FUSE in a private user and mount namespace, entered with `nsenter --target PID
/// --user --mount --preserve-credentials` (FUSE serves only its own user namespace); it vanishes with
/// the process.
Status mount_for_inspection(const Appliance& app, const std::string& dir);

}  // namespace havre::runtime
