// The default seccomp filter (libseccomp, linked statically), installed last before execve. (Not
// named seccomp.h: that is libseccomp's header.)
#pragma once

#include <string>

#include "base/error.h"
#include "caps.h"

namespace havre::runtime {

/// Docker's default profile as a deny list (docs/security.md compares them): keyctl/add_key/
/// request_key, kexec, userfaultfd, io_uring, swap, NUMA page moving, obsolete calls and
/// socket(AF_VSOCK) always fail with EPERM; module loading, acct, reboot, open_by_handle_at, bpf,
/// perf_event_open, kcmp/pidfd_getfd/process_madvise, iopl/ioperm, setting the clock, vhangup, memory
/// policies, syslog and -- the CAP_SYS_ADMIN group -- mount, umount, unshare, setns, pivot_root, the
/// new mount API, quotactl, fanotify_init and clone with namespace flags fail unless the capability
/// Docker ties them to is kept; clone3 fails with ENOSYS (without CAP_SYS_ADMIN) so libc falls back
/// to clone, whose flags the filter can see.
///
/// Compiled to classic BPF by the outer runtime while the container's init is busy mounting (it
/// takes libseccomp about a millisecond), then loaded by the command's process just before execve.
Result<std::string> compile_default_filter(CapSet caps);
/// Loads a program from compile_default_filter() (no_new_privs must be set already).
Status load_filter(const std::string& program);

}  // namespace havre::runtime
