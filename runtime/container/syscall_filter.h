// The default seccomp filter (libseccomp, linked statically), installed last before execve. (Not
// named seccomp.h: that is libseccomp's header.)
#pragma once

#include <string>

#include "base/error.h"
#include "container/caps.h"

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
/// The container's init once the command runs (PID 1 and, rootless, its FUSE server threads): an
/// allow list of what reaping, forwarding signals and serving FUSE requests need -- read/write on
/// fds it holds, memory, futexes, thread clones, wait4, kill, exit. Everything else (open, mount,
/// ioctl, ptrace, process_vm_*, execve, ...) fails with EPERM, so a command that can ptrace PID 1
/// cannot make it do more than the command itself can. Stricter than the command's filter.
Result<std::string> compile_init_filter();
/// Loads a program from compile_*_filter() (no_new_privs must be set already); `all_threads`
/// applies it to every thread of the process (SECCOMP_FILTER_FLAG_TSYNC).
Status load_filter(const std::string& program, bool all_threads = false);

}  // namespace havre::runtime
