// The default seccomp filter (libseccomp, linked statically), installed last before execve. (Not
// named seccomp.h: that is libseccomp's header.)
#pragma once

#include <string>

#include "base/error.h"
#include "caps.h"

namespace havre::runtime {

/// Docker's intent as a deny list: keyctl/add_key/request_key, kexec, module loading, bpf,
/// perf_event_open, userfaultfd, io_uring, and -- unless CAP_SYS_ADMIN is kept -- mount, umount,
/// unshare, setns, pivot_root, the new mount API and clone with namespace flags fail with EPERM;
/// clone3 fails with ENOSYS so libc falls back to clone, whose flags the filter can see.
///
/// Compiled to classic BPF by the outer runtime while the container's init is busy mounting (it
/// takes libseccomp about a millisecond), then loaded by the command's process just before execve.
Result<std::string> compile_default_filter(CapSet caps);
/// Loads a program from compile_default_filter() (no_new_privs must be set already).
Status load_filter(const std::string& program);

}  // namespace havre::runtime
