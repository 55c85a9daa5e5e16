// A static probe run inside test appliances: makes one raw system call per name given and prints
// "NAME=ERRNO" (or "NAME=ok"), so that tests see exactly what the seccomp filter and the
// capabilities let through. Arguments are harmless: nothing is loaded, mounted or created on success.
// Two other modes: `probe cat FILE` copies FILE to stdout (for images with no other binary), and
// `probe ids` prints the real and effective uid and the CapEff line (setuid tests: busybox would drop
// a setuid privilege by itself, the probe does not).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
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
  if (argc == 3 && !strcmp(argv[1], "cat")) return cat(argv[2]);
  if (argc == 2 && !strcmp(argv[1], "ids")) return ids();
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
