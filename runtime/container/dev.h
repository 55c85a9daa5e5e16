// /dev: a small tmpfs holding only the baseline device set, a private devpts, shm and mqueue; and
// the rule that no other device node is ever usable in the container.
#pragma once

#include <string>

#include "base/error.h"

namespace havre::runtime {

/// Builds root/dev: null zero full random urandom tty bind-mounted from the host (never mknod: the
/// /dev tmpfs is nodev, so a node made there cannot be opened), the fd/std* symlinks, devpts
/// (newinstance) with ptmx, /dev/shm and /dev/mqueue. No /dev/kmsg.
Status mount_dev(const std::string& root, bool rootless);

/// Makes the mount at `target` and every mount below it nodev, keeping their other flags: the
/// command keeps CAP_MKNOD (as in Docker), so any node it creates on a writable mount must stay
/// unopenable (EACCES) -- Docker's device cgroup does the same job. Used on host directories bound
/// into a root container (-v, havre-pack's staged tree).
Status forbid_device_nodes(const std::string& target);

}  // namespace havre::runtime
