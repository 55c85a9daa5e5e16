#include "container/syscall_filter.h"

#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/socket.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <initializer_list>
#include <memory>

#include "base/unique_fd.h"

namespace havre::runtime {
namespace {
Result<std::string> export_bpf(void* ctx);
}  // namespace

Result<std::string> compile_default_filter(CapSet caps) {
  std::unique_ptr<void, decltype(&seccomp_release)> ctx(seccomp_init(SCMP_ACT_ALLOW), seccomp_release);
  if (!ctx) return error("seccomp: cannot create a filter");
  auto deny = [&](const char* name, int err) -> Status {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return {};  // not on this architecture
    const int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(err), nr, 0);
    if (rc != 0) return sys_error(-rc, std::string("seccomp: rule for ") + name);
    return {};
  };
  const auto has = [&](int cap) { return (caps & (CapSet{1} << cap)) != 0; };
  // Refused whatever the capabilities (Docker's profile does not list them): key management, kexec,
  // userfaultfd, io_uring, swap, obsolete and unimplemented calls, and moving other processes' pages.
  for (const char* name :
       {"keyctl",   "add_key",        "request_key",     "kexec_load",      "kexec_file_load",
        "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "lookup_dcookie",
        "swapon",   "swapoff",        "migrate_pages",   "move_pages",      "uselib",
        "ustat",    "sysfs",          "_sysctl",         "nfsservctl",      "vm86",
        "vm86old",  "create_module",  "get_kernel_syms", "query_module",    "afs_syscall",
        "tuxcall",  "security",       "putpmsg",         "getpmsg"})
    if (auto ok = deny(name, EPERM); !ok) return ok.error();
  // Refused unless the capability that Docker's profile (and the kernel) ties them to is kept.
  struct Gated {
    std::initializer_list<const char*> names;
    bool allowed;
  };
  const bool sys_admin = has(CAP_SYS_ADMIN);
  for (const Gated& g : std::initializer_list<Gated>{
           {{"init_module", "finit_module", "delete_module"}, has(CAP_SYS_MODULE)},
           {{"acct"}, has(CAP_SYS_PACCT)},
           {{"reboot"}, has(CAP_SYS_BOOT)},
           {{"open_by_handle_at"}, has(CAP_DAC_READ_SEARCH)},
           {{"bpf"}, sys_admin || has(CAP_BPF)},
           {{"perf_event_open"}, sys_admin || has(CAP_PERFMON)},
           {{"kcmp", "pidfd_getfd", "process_madvise"}, has(CAP_SYS_PTRACE)},
           {{"iopl", "ioperm"}, has(CAP_SYS_RAWIO)},
           {{"settimeofday", "stime", "clock_settime"}, has(CAP_SYS_TIME)},
           {{"vhangup"}, has(CAP_SYS_TTY_CONFIG)},
           {{"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}, has(CAP_SYS_NICE)},
           {{"syslog"}, sys_admin || has(CAP_SYSLOG)},
           {{"mount", "umount2", "unshare", "setns", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick",
             "move_mount", "open_tree", "mount_setattr", "sethostname", "setdomainname", "quotactl",
             "quotactl_fd", "fanotify_init"},
            sys_admin}})
    if (!g.allowed)
      for (const char* name : g.names)
        if (auto ok = deny(name, EPERM); !ok) return ok.error();
  // socket(AF_VSOCK): a channel to the hypervisor and other VMs on its host.
  if (const int r = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
                                     SCMP_A0(SCMP_CMP_EQ, AF_VSOCK));
      r != 0)
    return sys_error(-r, "seccomp: rule for socket");
  if (!sys_admin) {
    // clone3's flags are in memory the filter cannot read: ENOSYS makes libc fall back to clone.
    if (auto ok = deny("clone3", ENOSYS); !ok) return ok.error();
    // clone with any namespace flag (Docker's mask 0x7E020000): one rule per flag, since MASKED_EQ
    // against the whole mask would match only all of them at once.
    for (scmp_datum_t flag : {CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
                              CLONE_NEWPID, CLONE_NEWNET}) {
      const int r = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
      if (r != 0) return sys_error(-r, "seccomp: rule for clone");
    }
  }
  return export_bpf(ctx.get());
}

Result<std::string> compile_init_filter() {
  std::unique_ptr<void, decltype(&seccomp_release)> ctx(seccomp_init(SCMP_ACT_ERRNO(EPERM)), seccomp_release);
  if (!ctx) return error("seccomp: cannot create a filter");
  for (const char* name :
       {"read", "write", "readv", "writev", "pread64", "preadv", "lseek", "close", "fstat", "newfstatat",
        "mmap", "munmap", "mremap", "mprotect", "madvise", "brk", "futex", "set_robust_list", "rseq",
        "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "sched_yield", "sched_getaffinity", "getrandom",
        "nanosleep", "clock_nanosleep", "clock_gettime", "gettimeofday", "getpid", "gettid", "tgkill",
        "wait4", "waitid", "kill", "exit", "exit_group", "restart_syscall"}) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;
    if (const int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, nr, 0); rc != 0)
      return sys_error(-rc, std::string("seccomp: rule for ") + name);
  }
  // Threads only (libfuse's workers): no new processes, no namespaces.
  if (const int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                                      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
      rc != 0)
    return sys_error(-rc, "seccomp: rule for clone");
  if (const int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0); rc != 0)
    return sys_error(-rc, "seccomp: rule for clone3");
  return export_bpf(ctx.get());
}

namespace {

Result<std::string> export_bpf(void* ctx) {
  // Exported through a memfd: libseccomp 2.5 writes BPF to an fd only.
  UniqueFd mem(::memfd_create("havre-seccomp", MFD_CLOEXEC));
  if (!mem.valid()) return sys_error("memfd_create for the seccomp filter");
  if (const int rc = seccomp_export_bpf(ctx, mem.get()); rc != 0)
    return sys_error(-rc, "seccomp: compile the filter");
  const off_t size = ::lseek(mem.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0) return error("seccomp: the compiled filter is malformed");
  std::string program(static_cast<size_t>(size), '\0');
  if (::pread(mem.get(), program.data(), program.size(), 0) != size)
    return sys_error("read the seccomp filter");
  return program;
}

}  // namespace

Status load_filter(const std::string& program, bool all_threads) {
  if (program.empty() || program.size() % sizeof(sock_filter) != 0)
    return error("seccomp: no filter to load");
  sock_fprog prog{static_cast<unsigned short>(program.size() / sizeof(sock_filter)),
                  reinterpret_cast<sock_filter*>(const_cast<char*>(program.data()))};
  const unsigned flags = all_threads ? SECCOMP_FILTER_FLAG_TSYNC : 0;
  const long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) return sys_error("seccomp: load the filter");
  if (rc > 0) return error("seccomp: thread " + std::to_string(rc) + " cannot take the filter");
  return {};
}

}  // namespace havre::runtime
