// The default seccomp filter (libseccomp, linked statically), installed last before execve. (Not
// named seccomp.h: that is libseccomp's header.)
#pragma once

#include "base/error.h"
#include "caps.h"

namespace havre::runtime {

/// Docker's intent as a deny list: keyctl/add_key/request_key, kexec, module loading, bpf,
/// perf_event_open, userfaultfd, io_uring, and -- unless CAP_SYS_ADMIN is kept -- mount, umount,
/// unshare, setns, pivot_root, the new mount API and clone with namespace flags fail with EPERM;
/// clone3 fails with ENOSYS so libc falls back to clone, whose flags the filter can see.
Status install_default_seccomp(CapSet caps);

}  // namespace havre::runtime
