#include "run.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "base/log.h"
#include "cgroup.h"
#include "dev.h"
#include "exec.h"
#include "extract.h"
#include "init.h"
#include "mount.h"
#include "namespaces.h"
#include "rootfs.h"
#include "signals.h"
#include "syscall_filter.h"
#include "terminal.h"

namespace havre::runtime {
namespace {

Status check_host_inputs(const RunOptions& opts) {
  for (const Bind& b : opts.binds) {
    struct stat st {};
    if (::stat(b.source.c_str(), &st) != 0) return sys_error("-v " + b.source);
  }
  if (!opts.persist_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opts.persist_dir, ec);
    if (ec) return sys_error(ec.value(), "--persist " + opts.persist_dir);
  }
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

// Closes every fd >= 3 but those in `keep` (close_range(2) over the gaps; a loop on older kernels).
void close_fds_except(std::vector<int> keep) {
  keep.erase(std::remove_if(keep.begin(), keep.end(), [](int fd) { return fd < 3; }), keep.end());
  std::sort(keep.begin(), keep.end());
  unsigned from = 3;
  auto close_span = [](unsigned first, unsigned last) {
    if (first > last) return;
    if (::syscall(SYS_close_range, first, last, 0U) == 0) return;
    const unsigned max = std::min<unsigned>(last, static_cast<unsigned>(::sysconf(_SC_OPEN_MAX)));
    for (unsigned fd = first; fd <= max; ++fd) ::close(static_cast<int>(fd));
  };
  for (int fd : keep) {
    if (static_cast<unsigned>(fd) > from) close_span(from, static_cast<unsigned>(fd) - 1);
    from = static_cast<unsigned>(fd) + 1;
  }
  close_span(from, ~0U);
}

// The container's init, in the new namespaces. Never returns: ends in run_init() or _exit(125)
// after writing the error to `report`.
[[noreturn]] void container_main(const ContainerSpec& spec, UniqueFd report, UniqueFd parent_alive,
                                 UniqueFd output, UniqueFd go, UniqueFd pty_socket, UniqueFd filter) {
  auto fail = [&report](Error err) {
    const std::string msg = err.message();
    ssize_t ignored = ::write(report.get(), msg.data(), msg.size());
    (void)ignored;
    ::_exit(125);
  };
  const RunOptions& opts = spec.opts;

  // 0. Only what the init needs crosses into the container: every other inherited fd (a caller's
  //    directory fd would be a way out, CVE-2024-21626) is closed now, before anything is mounted.
  close_fds_except({report.get(), parent_alive.get(), output.get(), go.get(), pty_socket.get(), filter.get(),
                    spec.image ? spec.image->fd.get() : -1});

  // 1. Die with the outer runtime (and so does everything in our PID namespace), even if it died
  //    before this line: its end of `parent_alive` is then already closed.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(sys_error("prctl(PR_SET_PDEATHSIG)"));
  struct pollfd pfd = {parent_alive.get(), POLLIN, 0};
  if (::poll(&pfd, 1, 0) != 0) ::_exit(125);
  parent_alive.reset();
  // In a user namespace nothing works until the outer process has written our id maps; with
  // limits, the outer process first moves us into the container's cgroup.
  if (go.valid()) {
    char byte = 0;
    if (::read(go.get(), &byte, 1) != 1) ::_exit(125);
    go.reset();
  }
  // 2. Nothing in the container may read our memory or open us through /proc (CVE-2019-5736).
  if (::prctl(PR_SET_DUMPABLE, 0) != 0) fail(sys_error("prctl(PR_SET_DUMPABLE)"));
  ::umask(0022);
  // The command's output goes to the caller's pipe when it asked for one; stdin is then /dev/null.
  if (output.valid()) {
    auto null = open_fd("/dev/null", O_RDONLY);
    if (!null) fail(null.error());
    if (::dup2(null->get(), STDIN_FILENO) < 0 || ::dup2(output.get(), STDOUT_FILENO) < 0 ||
        ::dup2(output.get(), STDERR_FILENO) < 0)
      fail(sys_error("dup2 the output pipe"));
    output.reset();
  }

  // 3. Private propagation before the first mount: nothing we mount ever appears on the host.
  log::debug("3. private propagation");
  if (auto ok = make_mounts_private(); !ok) fail(ok.error());
  // 4. Host paths first (the staging tmpfs may hide them), then a tmpfs to stage in, then the image
  //    (loop device) under the writable overlay.
  log::debug("4. staging, image, overlay");
  auto host = open_host_refs(opts, spec.directory);
  if (!host) fail(host.error());
  auto stage = mount_staging_area();
  if (!stage) fail(stage.error());
  auto root = spec.image ? mount_root(*spec.image, opts, *host, *stage) : mount_directory_root(*host, *stage);
  if (!root) fail(root.error());
  // 5. Kernel filesystems, /dev, host network files and volumes inside the new root.
  log::debug("5. kernel filesystems, /dev, files, volumes");
  if (auto ok = mount_kernel_filesystems(*root, opts.rootless); !ok) fail(ok.error());
  if (auto ok = mount_dev(*root, opts.rootless); !ok) fail(ok.error());
  if (auto ok = mask_kernel_paths(*root); !ok) fail(ok.error());
  const NetworkFiles net_files = !spec.image      ? NetworkFiles::kCreate
                                 : opts.read_only ? NetworkFiles::kKeepImage
                                                  : NetworkFiles::kReplaceSymlinks;
  if (!opts.net_none)
    if (auto ok = mount_network_files(*root, *host, net_files); !ok) fail(ok.error());
  if (auto ok = mount_binds(*root, opts, *host); !ok) fail(ok.error());
  // 6. UTS and network namespaces.
  log::debug("6. hostname, network");
  if (auto ok = set_hostname(spec.hostname); !ok) fail(ok.error());
  if (opts.net_none)
    if (auto ok = bring_up_loopback(); !ok) fail(ok.error());
  // 7. Into the new root; the host's tree is detached.
  log::debug("7. pivot_root");
  if (auto ok = pivot_into(*root); !ok) fail(ok.error());
  *host = HostRefs{};  // the references point into the detached old root now
  if (auto ok = enter_workdir(spec.exec.workdir, !opts.read_only); !ok) fail(ok.error());
  // 8. A terminal of the container's own devpts for the command; the outer runtime gets its master.
  ExecSpec exec = spec.exec;
  if (pty_socket.valid()) {
    auto pty = open_container_pty();
    if (!pty) fail(pty.error());
    if (auto ok = send_fd(pty_socket.get(), pty->first.get()); !ok) fail(ok.error());
    exec.tty = pty->second;
    pty_socket.reset();
  }
  // The seccomp filter the outer runtime compiled meanwhile (the command loads it last).
  if (filter.valid()) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(filter.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
      if (n > 0) exec.seccomp_filter.append(buf, static_cast<size_t>(n));
    if (exec.seccomp_filter.empty()) fail(error("no seccomp filter came from the runtime"));
    filter.reset();
  }
  // 9. Start the command and serve as its init.
  log::debug("9. starting the command");
  run_init(exec, std::move(report));
}

// Restores the signal mask when the container is done (havre-pack goes on afterwards).
class SignalMaskGuard {
 public:
  SignalMaskGuard() { ::sigprocmask(SIG_SETMASK, nullptr, &saved_); }
  ~SignalMaskGuard() { ::sigprocmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_;
};

}  // namespace

namespace {

// The pipes and sockets between the outer runtime and the container's init; each end is closed in
// the process that does not use it right after clone().
struct Channels {
  UniqueFd report_read, report_write;  // init -> outer: setup error text; EOF = setup done
  UniqueFd alive_read, alive_write;    // outer keeps the write end: the init sees us die (step 1)
  UniqueFd go_read, go_write;          // outer -> init: id maps written, cgroup joined (when needed)
  UniqueFd pty_parent, pty_child;      // init -> outer: the pty master (with a terminal)
  UniqueFd output_read, output_write;  // the command's stdout+stderr (when captured)
  UniqueFd filter_read, filter_write;  // outer -> init: the compiled seccomp filter (when wanted)

  static Result<Channels> make(bool wait_for_go, bool tty, bool output, bool filter) {
    Channels c;
    auto pipe = [](UniqueFd& r, UniqueFd& w) -> Status {
      int fds[2];
      if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe");
      r.reset(fds[0]);
      w.reset(fds[1]);
      return {};
    };
    if (auto ok = pipe(c.report_read, c.report_write); !ok) return ok.error();
    if (auto ok = pipe(c.alive_read, c.alive_write); !ok) return ok.error();
    if (wait_for_go)
      if (auto ok = pipe(c.go_read, c.go_write); !ok) return ok.error();
    if (output)
      if (auto ok = pipe(c.output_read, c.output_write); !ok) return ok.error();
    if (filter)
      if (auto ok = pipe(c.filter_read, c.filter_write); !ok) return ok.error();
    if (tty) {
      int fds[2];
      if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) return sys_error("socketpair");
      c.pty_parent.reset(fds[0]);
      c.pty_child.reset(fds[1]);
    }
    return c;
  }
  void keep_parent_ends() {
    report_write.reset();
    alive_read.reset();
    go_read.reset();
    pty_child.reset();
    output_write.reset();
    filter_read.reset();
  }
  void keep_child_ends() {
    report_read.reset();
    alive_write.reset();
    go_write.reset();
    pty_parent.reset();
    output_read.reset();
    filter_write.reset();
  }
};

// Copies what `from` has to `to`; false at the end of input (or on an error of either side).
bool relay(int from, int to) {
  char buf[16384];
  const ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return n < 0 && errno == EINTR;
  for (ssize_t done = 0; done < n;) {
    const ssize_t w = ::write(to, buf + done, static_cast<size_t>(n - done));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return false;
    done += w;
  }
  return true;
}

// The outer runtime while the container runs: relays signals to the init until it exits, and
// collects a setup error if it reports one, the command's output if the caller asked for it, and,
// with a pty, the bytes between it and the user's terminal. Returns the command's status.
Result<int> supervise(pid_t init, Channels& ch, int sigfd, const ContainerSpec& spec) {
  std::string setup_error;
  bool setup_done = false;
  int interrupted_by = 0;
  UniqueFd pty_master;
  std::optional<RawTerminal> raw_terminal;  // restores the user's terminal on every return
  bool stdin_open = spec.tty;
  pid_t stopped_group = 0;  // the pty's job we stopped on Ctrl-Z; continued with us
  for (;;) {
    struct pollfd pfds[6] = {{sigfd, POLLIN, 0},
                             {setup_done ? -1 : ch.report_read.get(), POLLIN, 0},
                             {ch.output_read.valid() ? ch.output_read.get() : -1, POLLIN, 0},
                             {ch.pty_parent.valid() ? ch.pty_parent.get() : -1, POLLIN, 0},
                             {pty_master.valid() ? pty_master.get() : -1, POLLIN, 0},
                             {pty_master.valid() && stdin_open && raw_terminal ? STDIN_FILENO : -1, POLLIN, 0}};
    const int n = ::poll(pfds, 6, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("poll");
    if (pfds[1].revents) {
      char buf[4096];
      const ssize_t r = ::read(ch.report_read.get(), buf, sizeof buf);
      if (r > 0)
        setup_error.append(buf, static_cast<size_t>(r));
      else
        setup_done = true;
    }
    if (pfds[2].revents) {
      char buf[16384];
      const ssize_t r = ::read(ch.output_read.get(), buf, sizeof buf);
      if (r > 0)
        spec.output(std::string_view(buf, static_cast<size_t>(r)));
      else if (r == 0)
        ch.output_read.reset();
    }
    if (pfds[3].revents) {
      // The init's pty: from now on the user's terminal is raw and relayed.
      auto master = receive_fd(ch.pty_parent.get());
      ch.pty_parent.reset();
      if (master) {
        pty_master = std::move(*master);
        copy_window_size(STDIN_FILENO, pty_master.get());
        if (auto raw = RawTerminal::enter(STDIN_FILENO)) raw_terminal.emplace(std::move(*raw));
      }
    }
    // EIO on the master: the command and everything holding the pty are gone.
    if (pfds[4].revents && !relay(pty_master.get(), STDOUT_FILENO)) pty_master.reset();
    if (pfds[5].revents) {
      const KeyboardInput in = relay_keyboard(STDIN_FILENO, pty_master.get(), raw_terminal->suspend_char());
      stdin_open = in.open;
      if (in.stopped > 0) {
        // Ctrl-Z stopped the command: give the user's terminal back and stop as its job.
        stopped_group = in.stopped;
        raw_terminal->restore();
        ::raise(SIGSTOP);
      }
    }
    if (!pfds[0].revents) continue;
    signalfd_siginfo info{};
    if (::read(sigfd, &info, sizeof info) != sizeof info) continue;
    if (info.ssi_signo == SIGCHLD) {
      int status = 0;
      if (::waitpid(init, &status, WNOHANG) != init) continue;
      log::debug("the container's init exited");
      // Drain what was written just before the init exited (its writers are all gone now).
      char buf[16384];
      ssize_t got;
      while (!setup_done && (got = ::read(ch.report_read.get(), buf, sizeof buf)) > 0)
        setup_error.append(buf, static_cast<size_t>(got));
      while (ch.output_read.valid() && (got = ::read(ch.output_read.get(), buf, sizeof buf)) > 0)
        spec.output(std::string_view(buf, static_cast<size_t>(got)));
      if (pty_master.valid()) {
        ::fcntl(pty_master.get(), F_SETFL, O_NONBLOCK);
        while (relay(pty_master.get(), STDOUT_FILENO)) {
        }
      }
      if (!setup_error.empty()) return error(setup_error);
      if (interrupted_by) return 128 + interrupted_by;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (info.ssi_signo == SIGTSTP) {
      // `kill -TSTP`: the user's terminal back as it was, then stop as the job control asked.
      if (raw_terminal) raw_terminal->restore();
      ::raise(SIGSTOP);
    } else if (info.ssi_signo == SIGCONT) {
      if (stopped_group > 0) ::kill(-std::exchange(stopped_group, 0), SIGCONT);
      // Continued: raw again in the foreground (`fg`); in the background (`bg`) the terminal stays
      // the user's and stdin is not read (reading it there would stop us with SIGTTIN).
      if (raw_terminal && !raw_terminal->resume()) raw_terminal.reset();
      else if (!raw_terminal && pty_master.valid())
        if (auto raw = RawTerminal::enter(STDIN_FILENO)) raw_terminal.emplace(std::move(*raw));
    } else if (info.ssi_signo == SIGWINCH && pty_master.valid()) {
      copy_window_size(STDIN_FILENO, pty_master.get());
    } else if (!setup_done) {
      // Interrupted while setting up: there is no command to pass the signal to yet.
      interrupted_by = static_cast<int>(info.ssi_signo);
      ::kill(init, SIGKILL);
    } else if (!from_terminal(info) || spec.tty) {
      // Without a pty of its own the command shares our process group, so the terminal's signals
      // reached the init (and the command) directly.
      ::kill(init, static_cast<int>(info.ssi_signo));
    }
  }
}

}  // namespace

Result<int> run_container(const ContainerSpec& requested) {
  // Without root, the container gets a user namespace and the image comes over FUSE.
  ContainerSpec spec = requested;
  spec.opts.rootless = spec.opts.rootless || ::geteuid() != 0;
  spec.exec.in_user_namespace = spec.opts.rootless;
  if (spec.opts.rootless && !spec.image) return error("a directory root needs root (havre-pack's run steps)");
  if (auto ok = check_host_inputs(spec.opts); !ok) return ok.error();
  if (auto ok = check_paths_not_through_fds(spec.exec); !ok) return ok.error();

  // Resource limits: the container's cgroup exists before anything else does (none without limits).
  std::optional<Cgroup> cgroup;
  if (spec.opts.limits.any()) {
    auto made = Cgroup::create(spec.opts.limits);
    if (made)
      cgroup.emplace(std::move(*made));
    else if (spec.opts.limits.best_effort)
      log::warn("running without resource limits (--cgroups best-effort): %s",
                made.error().message().c_str());
    else
      return made.error();
  }

  // Signals are blocked from here on and read from a signalfd; the child inherits the mask.
  SignalMaskGuard mask_guard;
  auto sigfd = block_into_signalfd(spec.tty);
  if (!sigfd) return sigfd.error();
  auto ch = Channels::make(spec.opts.rootless || cgroup, spec.tty, static_cast<bool>(spec.output),
                           spec.exec.seccomp);
  if (!ch) return ch.error();

  log::debug("cloning the container's init");
  auto pid = clone_into_namespaces(container_clone_flags(spec.opts.net_none, spec.opts.rootless));
  if (!pid) {
    if (spec.opts.rootless) return error(user_namespace_error(pid.error().errnum));
    return pid.error();
  }
  if (*pid == 0) {
    ch->keep_child_ends();
    sigfd->reset();
    container_main(spec, std::move(ch->report_write), std::move(ch->alive_read), std::move(ch->output_write),
                   std::move(ch->go_read), std::move(ch->pty_child), std::move(ch->filter_read));
  }
  ch->keep_parent_ends();
  auto abandon = [&](Error err) -> Error {
    ::kill(*pid, SIGKILL);
    ::waitpid(*pid, nullptr, 0);
    return err;
  };
  // The caller is root inside a user namespace (the init needs that to build the root); --user is
  // applied to the command alone, in a nested user namespace (exec.cpp).
  if (spec.opts.rootless)
    if (auto mapped = write_id_maps(*pid, 0, 0, ::getuid(), ::getgid()); !mapped)
      return abandon(mapped.error().wrap("user namespace id maps"));
  // The init joins the cgroup before it mounts or starts anything, so all of it is accounted.
  if (cgroup)
    if (auto joined = cgroup->join(*pid); !joined) return abandon(joined.error());
  if (ch->go_write.valid()) {
    const char go = 1;
    if (::write(ch->go_write.get(), &go, 1) != 1) return abandon(sys_error("start the container"));
    ch->go_write.reset();
  }
  // The seccomp filter is compiled here while the init mounts, on the other core.
  if (ch->filter_write.valid()) {
    auto filter = compile_default_filter(spec.exec.caps);
    if (!filter || ::write(ch->filter_write.get(), filter->data(), filter->size()) !=
                       static_cast<ssize_t>(filter->size()))
      return abandon(filter ? sys_error("hand the seccomp filter to the container") : filter.error());
    ch->filter_write.reset();
  }
  auto status = supervise(*pid, *ch, sigfd->get(), spec);
  // Said once, as Docker's OOMKilled: the status alone (137) cannot tell it from a kill -9.
  if (cgroup && status)
    if (const std::uint64_t kills = cgroup->oom_kills(); kills > 0)
      log::error("the container ran out of memory (--memory %s): the kernel killed %llu process%s",
                 format_memory_size(*spec.opts.limits.memory_bytes).c_str(),
                 static_cast<unsigned long long>(kills), kills == 1 ? "" : "es");
  return status;
}

Result<int> run(const Appliance& app, const RunOptions& opts) {
  if (!app.manifest) return error(app.path + ": no manifest (" + app.manifest_problem + ")");
  ContainerSpec spec;
  spec.image = &app;
  spec.opts = opts;
  // Rootless without a usable /dev/fuse (or when asked, like AppImage's APPIMAGE_EXTRACT_AND_RUN):
  // run from a copy extracted once into the user's cache.
  const char* force_extract = std::getenv("HAVRE_EXTRACT_AND_RUN");
  if ((opts.rootless || ::geteuid() != 0) &&
      (::access("/dev/fuse", R_OK | W_OK) != 0 || (force_extract && std::string(force_extract) == "1"))) {
    auto dir = extracted_copy(app);
    if (!dir) return dir.error().wrap("FUSE is not available and extracting the image failed");
    spec.opts.extracted_root = *dir;
  }
  spec.exec = make_exec_spec(*app.manifest, opts, std::getenv("TERM"));
  spec.tty = wants_pty();
  spec.hostname = !opts.hostname.empty()            ? opts.hostname
                  : !app.manifest->hostname.empty() ? app.manifest->hostname
                  : !app.manifest->name.empty()     ? app.manifest->name
                                                    : "havre";
  return run_container(spec);
}

}  // namespace havre::runtime
