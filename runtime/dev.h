// /dev: a small tmpfs holding only the baseline device set, a private devpts, shm and mqueue.
#pragma once

#include <string>

#include "base/error.h"

namespace havre::runtime {

/// Builds root/dev: null zero full random urandom tty (mknod as root; bind-mounted from the host in a
/// user namespace, `rootless`, where mknod is not allowed), the fd/std* symlinks, devpts (newinstance)
/// with ptmx, /dev/shm and /dev/mqueue.
Status mount_dev(const std::string& root, bool rootless);

}  // namespace havre::runtime
