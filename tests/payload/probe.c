// A static probe run inside test appliances: makes one raw system call per name given and prints
// "NAME=ERRNO" (or "NAME=ok"), so that tests see exactly what the seccomp filter and the
// capabilities let through. Arguments are harmless: nothing is loaded, mounted or created on success.
//
// Two more forms for the device and init tests:
//   probe node:b|c:MAJOR:MINOR:PATH  mknod PATH, then open it: "node=ok|ERRNO open=ok|ERRNO"
//   probe inject:TID                 ptrace TID (a thread of PID 1) and make it run mount(2) and
//                                    openat(2) at its current instruction: "attach=ok|ERRNO" then
//                                    "inject-mount=ok|ERRNO inject-open=ok|ERRNO"
//   probe setcap:PATH                give PATH the file capability cap_net_raw+ep (the
//                                    security.capability xattr, as `setcap cap_net_raw+ep` does):
//                                    "setcap=ok|ERRNO" (for images without setcap)
//   probe cat FILE                   copies FILE to stdout (for images with no other binary)
//   probe ids                        the real and effective uid and the CapEff line (setuid tests:
//                                    busybox would drop a setuid privilege by itself, the probe not)
#define _GNU_SOURCE
#include <errno.h>
#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static long call(const char* name) {
  if (!strcmp(name, "keyctl")) return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0);
  if (!strcmp(name, "add_key")) return syscall(SYS_add_key, "user", "havre", "x", 1, -3);
  if (!strcmp(name, "request_key")) return syscall(SYS_request_key, "user", "havre", NULL, 0);
  if (!strcmp(name, "bpf")) return syscall(SYS_bpf, 0, NULL, 0);
  if (!strcmp(name, "perf_event_open")) return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
  if (!strcmp(name, "userfaultfd")) return syscall(SYS_userfaultfd, 0);
  if (!strcmp(name, "io_uring_setup")) return syscall(SYS_io_uring_setup, 0, NULL);
  if (!strcmp(name, "kexec_load")) return syscall(SYS_kexec_load, 0, 0, NULL, 0);
  if (!strcmp(name, "init_module")) return syscall(SYS_init_module, NULL, 0, "");
  if (!strcmp(name, "unshare")) return syscall(SYS_unshare, CLONE_NEWNS);
  if (!strcmp(name, "setns")) return syscall(SYS_setns, -1, 0);
  if (!strcmp(name, "mount")) return syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL);
  if (!strncmp(name, "socket:", 7)) {  // socket:FAMILY, a number (AF_VSOCK is 40)
    long fd = syscall(SYS_socket, atoi(name + 7), SOCK_STREAM, 0);
    if (fd >= 0) close((int)fd);
    return fd;
  }
  if (!strncmp(name, "personality:", 12)) return syscall(SYS_personality, strtoul(name + 12, NULL, 0));
  if (!strcmp(name, "kcmp")) return syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, 0, 0);
  if (!strcmp(name, "get_mempolicy")) return syscall(SYS_get_mempolicy, NULL, NULL, 0, NULL, 0);
  if (!strcmp(name, "migrate_pages")) return syscall(SYS_migrate_pages, 0, 0, NULL, NULL);
  if (!strcmp(name, "clone3")) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.exit_signal = 17;  // SIGCHLD
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) _exit(0);
    return pid;
  }
  errno = EINVAL;
  fprintf(stderr, "probe: unknown system call %s\n", name);
  return -2;
}

static const char* err_name(long r) { return r >= 0 ? "ok" : strerrorname_np((int)-r); }

// mknod + open of a device node outside the container's baseline set.
static int node(const char* spec) {
  char type;
  unsigned major, minor;
  int used = 0;
  if (sscanf(spec, "node:%c:%u:%u:%n", &type, &major, &minor, &used) != 3 || used == 0) return 2;
  const char* path = spec + used;
  const long made = mknod(path, (type == 'b' ? S_IFBLK : S_IFCHR) | 0600, makedev(major, minor)) == 0 ? 0 : -errno;
  // Read-only for a block device (a loop device may be attached read-only), write-only for a char
  // device (what writing to /dev/kmsg needs; /dev/kvm opens so too).
  const int fd = open(path, (type == 'b' ? O_RDONLY : O_WRONLY) | O_CLOEXEC | O_NONBLOCK);
  const long opened = fd >= 0 ? 0 : -errno;
  if (fd >= 0) close(fd);
  printf("node=%s open=%s\n", err_name(made), err_name(opened));
  return 0;
}

// Runs one system call in the stopped tracee at its current rip (a `syscall` instruction written
// there for the step), with strings placed below its stack; restores text and registers after.
static long inject(pid_t tid, const struct user_regs_struct* saved, long nr, const char* const* strs,
                   int nstrs, long a3, long a4) {
  struct user_regs_struct regs = *saved;
  unsigned long where = (saved->rsp - 4096) & ~15UL, addr[4] = {0};
  for (int i = 0; i < nstrs; ++i) {
    const size_t len = strlen(strs[i]) + 1;
    struct iovec local = {(void*)strs[i], len}, remote = {(void*)where, len};
    if (process_vm_writev(tid, &local, 1, &remote, 1, 0) != (ssize_t)len) {
      // No process_vm_writev across the seccomp filter: fall back to POKEDATA, a word at a time.
      for (size_t off = 0; off < len; off += sizeof(long)) {
        long word = 0;
        memcpy(&word, strs[i] + off, len - off < sizeof word ? len - off : sizeof word);
        if (ptrace(PTRACE_POKEDATA, tid, where + off, word) != 0) return -errno;
      }
    }
    addr[i] = where;
    where += (len + 15) & ~15UL;
  }
  errno = 0;
  const long text = ptrace(PTRACE_PEEKTEXT, tid, saved->rip, 0);
  if (errno) return -errno;
  long patched = (text & ~0xffffL) | 0x050f;  // syscall
  if (ptrace(PTRACE_POKETEXT, tid, saved->rip, patched) != 0) return -errno;
  regs.rax = (unsigned long)nr;
  regs.orig_rax = (unsigned long)-1;  // no restart of the interrupted call on this step
  regs.rdi = nstrs > 0 ? addr[0] : (unsigned long)-100;  // openat: AT_FDCWD
  regs.rsi = nstrs > 1 ? addr[1] : addr[0];
  regs.rdx = nstrs > 2 ? addr[2] : (unsigned long)a3;
  regs.r10 = (unsigned long)a3;
  regs.r8 = (unsigned long)a4;
  if (nr == SYS_openat) {
    regs.rdi = (unsigned long)-100;
    regs.rsi = addr[0];
    regs.rdx = (unsigned long)a3;
  }
  long result;
  int status;
  if (ptrace(PTRACE_SETREGS, tid, 0, &regs) != 0 || ptrace(PTRACE_SINGLESTEP, tid, 0, 0) != 0 ||
      waitpid(tid, &status, __WALL) != tid || ptrace(PTRACE_GETREGS, tid, 0, &regs) != 0)
    result = -errno;
  else
    result = (long)regs.rax;
  ptrace(PTRACE_POKETEXT, tid, saved->rip, text);
  ptrace(PTRACE_SETREGS, tid, 0, saved);
  return result > -4096 && result < 0 ? result : result >= 0 ? 0 : result;
}

static int hijack(const char* spec) {
  const pid_t tid = (pid_t)atoi(spec + strlen("inject:"));
  int status;
  if (ptrace(PTRACE_ATTACH, tid, 0, 0) != 0) {
    printf("attach=%s\n", strerrorname_np(errno));
    return 0;
  }
  if (waitpid(tid, &status, __WALL) != tid) return 3;
  printf("attach=ok\n");
  struct user_regs_struct saved;
  if (ptrace(PTRACE_GETREGS, tid, 0, &saved) != 0) return 3;
  const char* mount_args[] = {"none", "/mnt", "tmpfs"};
  const long mounted = inject(tid, &saved, SYS_mount, mount_args, 3, 0, 0);
  const char* open_args[] = {"/"};
  const long opened = inject(tid, &saved, SYS_openat, open_args, 1, O_RDONLY | O_DIRECTORY, 0);
  printf("inject-mount=%s inject-open=%s\n", err_name(mounted), err_name(opened));
  ptrace(PTRACE_DETACH, tid, 0, 0);
  return 0;
}

// struct vfs_cap_data, revision 2: effective flag, CAP_NET_RAW (13) permitted, nothing inheritable.
static int set_file_cap(const char* arg) {
  const uint32_t data[5] = {0x02000000u | 1u, 1u << 13, 0, 0, 0};
  const int r = setxattr(arg + strlen("setcap:"), "security.capability", data, sizeof data, 0);
  if (r == 0)
    printf("setcap=ok\n");
  else
    printf("setcap=%s\n", strerrorname_np(errno));
  return r == 0 ? 0 : 1;
}


static int cat(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "probe: open %s: %s\n", path, strerror(errno));
    return 1;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    if (write(STDOUT_FILENO, buf, (size_t)n) != n) return 1;
  close(fd);
  return n < 0;
}

static int ids(void) {
  printf("uid=%d euid=%d\n", (int)getuid(), (int)geteuid());
  fflush(stdout);
  FILE* f = fopen("/proc/self/status", "r");
  if (!f) return 1;
  char line[256];
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "CapEff:", 7)) fputs(line, stdout);
  fclose(f);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 2 && !strncmp(argv[1], "setcap:", 7)) return set_file_cap(argv[1]);
  if (argc == 3 && !strcmp(argv[1], "cat")) return cat(argv[2]);
  if (argc == 2 && !strcmp(argv[1], "ids")) return ids();
  if (argc == 2 && !strncmp(argv[1], "node:", 5)) return node(argv[1]);
  if (argc == 2 && !strncmp(argv[1], "inject:", 7)) return hijack(argv[1]);
  for (int i = 1; i < argc; ++i) {
    errno = 0;
    const long r = call(argv[i]);
    if (r == -2) return 2;
    if (r >= 0)
      printf("%s=ok\n", argv[i]);
    else
      printf("%s=%s\n", argv[i], strerrorname_np(errno));
  }
  return 0;
}
