#include "container/setup.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <exception>

#include "base/log.h"
#include "container/dev.h"
#include "container/fds.h"
#include "container/init.h"
#include "container/mount.h"
#include "container/namespaces.h"
#include "container/report.h"
#include "container/rootfs.h"
#include "container/terminal.h"

namespace havre::runtime {
namespace {

// The helpers below are the steps of setup_container(), in its order.

// Die with the outer runtime (and so does everything in our PID namespace), even if it died
// before this: its end of `parent_alive` is then already closed.
Status die_with_parent(UniqueFd& parent_alive) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return sys_error("prctl(PR_SET_PDEATHSIG)");
  struct pollfd pfd = {parent_alive.get(), POLLIN, 0};
  if (::poll(&pfd, 1, 0) != 0) return error("the runtime exited before the container was set up");
  parent_alive.reset();
  return {};
}

// In a user namespace nothing works until the outer process has written our id maps; with limits,
// it first moves us into the container's cgroup.
Status wait_for_go(UniqueFd& go) {
  if (!go.valid()) return {};
  char byte = 0;
  ssize_t n;
  while ((n = ::read(go.get(), &byte, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1) return error("the runtime gave up before starting the container");
  go.reset();
  return {};
}

// Nothing in the container may read our memory or open us through /proc (CVE-2019-5736).
Status become_undumpable() {
  if (::prctl(PR_SET_DUMPABLE, 0) != 0) return sys_error("prctl(PR_SET_DUMPABLE)");
  ::umask(0022);
  return {};
}

// The command's output goes to the caller's pipe when it asked for one; stdin is then /dev/null.
Status redirect_output(UniqueFd& output) {
  if (!output.valid()) return {};
  auto null = open_fd("/dev/null", O_RDONLY);
  if (!null) return null.error();
  if (::dup2(null->get(), STDIN_FILENO) < 0 || ::dup2(output.get(), STDOUT_FILENO) < 0 ||
      ::dup2(output.get(), STDERR_FILENO) < 0)
    return sys_error("dup2 the output pipe");
  output.reset();
  return {};
}

// /proc, /sys, /tmp, /dev, the masks, the host's network files and the volumes, inside the root.
Status populate_root(const ContainerSpec& spec, const HostRefs& host, const std::string& root) {
  const ContainerOptions& opts = spec.opts;
  if (auto ok = mount_kernel_filesystems(root, spec.rootless); !ok) return ok;
  if (auto ok = mount_dev(root, spec.rootless); !ok) return ok;
  if (auto ok = mask_kernel_paths(root); !ok) return ok;
  const NetworkFiles net_files = !spec.image      ? NetworkFiles::kCreate
                                 : opts.read_only ? NetworkFiles::kKeepImage
                                                  : NetworkFiles::kReplaceSymlinks;
  if (!opts.net_none)
    if (auto ok = mount_network_files(root, host, net_files); !ok) return ok;
  return mount_binds(root, spec, host);
}

// The UTS and network namespaces.
Status set_up_uts_and_network(const ContainerSpec& spec) {
  if (auto ok = set_hostname(spec.hostname); !ok) return ok;
  if (spec.opts.net_none) return bring_up_loopback();
  return {};
}

Status enter_workdir(const std::string& dir, bool writable) {
  if (::chdir(dir.c_str()) != 0) {
    if (errno != ENOENT || !writable) return sys_error("working directory " + dir);
    if (auto ok = ensure_mountpoint("", dir, false); !ok) return ok.error().wrap("working directory");
    if (::chdir(dir.c_str()) != 0) return sys_error("working directory " + dir);
  }
  // A cwd outside the new root (an inherited fd, /proc/self/fd/N tricks) shows up as not absolute.
  char cwd[4096];
  if (::getcwd(cwd, sizeof cwd) == nullptr || cwd[0] != '/')
    return error("working directory " + dir + " lies outside the container");
  return {};
}

// A terminal of the container's own devpts for the command; the outer runtime gets its master.
Status hand_over_pty(UniqueFd& pty_socket, ExecSpec& exec) {
  if (!pty_socket.valid()) return {};
  auto pty = open_container_pty();
  if (!pty) return pty.error();
  if (auto ok = send_fd(pty_socket.get(), pty->first.get()); !ok) return ok.error().wrap("hand the pty over");
  exec.tty = pty->second;
  pty_socket.reset();
  return {};
}

// The filter pipe carries a 4-byte length, the command's filter (empty with --seccomp unconfined),
// then the init's (run.cpp's compile_filters).
Status read_filters(UniqueFd& fd, std::string& command, std::string& init) {
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) all.append(buf, static_cast<size_t>(n));
  fd.reset();
  std::uint32_t len = 0;
  if (all.size() < sizeof len) return error("no seccomp filter came from the runtime");
  std::memcpy(&len, all.data(), sizeof len);
  if (all.size() - sizeof len < len) return error("a truncated seccomp filter came from the runtime");
  command = all.substr(sizeof len, len);
  init = all.substr(sizeof len + len);
  if (init.empty()) return error("no seccomp filter for the init came from the runtime");
  return {};
}

// The container, from the fresh clone to the moment the command can start.
Status setup_container(const ContainerSpec& spec, ChildEnds& ends, ExecSpec& exec, std::string& init_filter) {
  // 0. Only what the init needs crosses into the container: every other inherited fd (a caller's
  //    directory fd would be a way out, CVE-2024-21626) is closed before anything is mounted.
  close_fds_except({ends.report.get(), ends.parent_alive.get(), ends.output.get(), ends.go.get(),
                    ends.pty_socket.get(), ends.filter.get(), spec.image ? spec.image->fd.get() : -1});
  // 1. Die with the outer runtime; 2. wait for our id maps and cgroup.
  if (auto ok = die_with_parent(ends.parent_alive); !ok) return ok;
  if (auto ok = wait_for_go(ends.go); !ok) return ok;
  // 3. Non-dumpable; 4. the command's output to the caller's pipe, if captured.
  if (auto ok = become_undumpable(); !ok) return ok;
  if (auto ok = redirect_output(ends.output); !ok) return ok;
  // 5. Private propagation before the first mount: nothing we mount ever appears on the host.
  log::debug("5. private propagation");
  if (auto ok = make_mounts_private(); !ok) return ok;
  // 6. Host paths first (the staging tmpfs may hide them), a tmpfs to stage in, the root in it.
  log::debug("6. staging, image, overlay");
  auto host = open_host_refs(spec);
  if (!host) return host.error();
  auto stage = mount_staging_area();
  if (!stage) return stage.error();
  auto root = spec.image ? mount_root(spec, *host, *stage) : mount_directory_root(*host, *stage);
  if (!root) return root.error();
  // 7. Kernel filesystems, /dev, masks, host network files and volumes inside the root.
  log::debug("7. kernel filesystems, /dev, files, volumes");
  if (auto ok = populate_root(spec, *host, *root); !ok) return ok;
  // 8. Hostname; loopback with --net none.
  log::debug("8. hostname, network");
  if (auto ok = set_up_uts_and_network(spec); !ok) return ok;
  // 9. Into the new root (the host's tree is detached, and with it what `host` refers to).
  log::debug("9. pivot_root");
  if (auto ok = pivot_into(*root); !ok) return ok;
  *host = HostRefs{};
  if (auto ok = enter_workdir(spec.exec.workdir, !spec.opts.read_only); !ok) return ok;
  // 10. The command's pty; 11. the seccomp filters the outer runtime compiled meanwhile.
  if (auto ok = hand_over_pty(ends.pty_socket, exec); !ok) return ok;
  return read_filters(ends.filter, exec.seccomp_filter, init_filter);
}

}  // namespace

void container_child(const ContainerSpec& spec, ChildEnds ends) noexcept {
  // This process is a copy of the caller: an exception must never reach the caller's frames (it
  // would remove the live cgroup and carry on as a second runtime). noexcept makes it terminate.
  std::set_terminate([] { ::_exit(125); });
  ExecSpec exec = spec.exec;
  std::string init_filter;
  if (Status ok = setup_container(spec, ends, exec, init_filter); !ok) report_and_exit(ends.report.get(), ok.error());
  // 12. Start the command and serve as its init.
  log::debug("12. starting the command");
  run_init(exec, std::move(ends.report), init_filter);
}

}  // namespace havre::runtime
