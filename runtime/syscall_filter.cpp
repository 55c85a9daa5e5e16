#include "syscall_filter.h"

#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>

#include <cerrno>
#include <memory>

namespace havre::runtime {

Status install_default_seccomp(CapSet caps) {
  std::unique_ptr<void, decltype(&seccomp_release)> ctx(seccomp_init(SCMP_ACT_ALLOW), seccomp_release);
  if (!ctx) return error("seccomp: cannot create a filter");
  auto deny = [&](const char* name, int err) -> Status {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return {};  // not on this architecture
    const int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(err), nr, 0);
    if (rc != 0) return sys_error(-rc, std::string("seccomp: rule for ") + name);
    return {};
  };
  for (const char* name : {"keyctl",
                           "add_key",
                           "request_key",
                           "kexec_load",
                           "kexec_file_load",
                           "init_module",
                           "finit_module",
                           "delete_module",
                           "bpf",
                           "perf_event_open",
                           "userfaultfd",
                           "io_uring_setup",
                           "io_uring_enter",
                           "io_uring_register",
                           "lookup_dcookie",
                           "acct",
                           "swapon",
                           "swapoff",
                           "reboot",
                           "open_by_handle_at"})
    if (auto ok = deny(name, EPERM); !ok) return ok;
  if (auto ok = deny("clone3", ENOSYS); !ok) return ok;
  if (!(caps & (CapSet{1} << CAP_SYS_ADMIN))) {
    for (const char* name :
         {"mount", "umount2", "unshare", "setns", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick",
          "move_mount", "open_tree", "mount_setattr", "sethostname", "setdomainname", "syslog"})
      if (auto ok = deny(name, EPERM); !ok) return ok;
    // clone with any namespace flag (Docker's mask 0x7E020000): one rule per flag, since MASKED_EQ
    // against the whole mask would match only all of them at once.
    for (scmp_datum_t flag : {CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
                              CLONE_NEWPID, CLONE_NEWNET}) {
      const int r = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
      if (r != 0) return sys_error(-r, "seccomp: rule for clone");
    }
  }
  const int rc = seccomp_load(ctx.get());
  if (rc != 0) return sys_error(-rc, "seccomp: load the filter");
  return {};
}

}  // namespace havre::runtime
