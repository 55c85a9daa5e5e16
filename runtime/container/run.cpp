#include "container/run.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

#include "base/log.h"
#include "container/cgroup.h"
#include "image/extract.h"
#include "image/image.h"
#include "container/namespaces.h"
#include "container/report.h"
#include "container/setup.h"
#include "container/signals.h"
#include "container/syscall_filter.h"
#include "container/terminal.h"

namespace havre::runtime {
namespace {

Status check_host_inputs(const ContainerOptions& opts) {
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

// Everything `fd` has until EOF.
std::string read_to_end(int fd) {
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) all.append(buf, static_cast<size_t>(n));
  return all;
}

// The filter pipe: a 4-byte length, the command's filter (may be empty), then the init's.
Result<std::string> compile_filters(const ExecSpec& exec) {
  std::string command;
  if (exec.seccomp) {
    auto filter = compile_default_filter(exec.caps);
    if (!filter) return filter.error();
    command = std::move(*filter);
  }
  auto init = compile_init_filter();
  if (!init) return init.error();
  const auto len = static_cast<std::uint32_t>(command.size());
  std::string all(reinterpret_cast<const char*>(&len), sizeof len);
  return all + command + *init;
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

// What the outer runtime tracks while the container runs (supervise() and its pieces below).
struct Supervision {
  Supervision(pid_t init_pid, Channels& channels, const ContainerSpec& container)
      : init(init_pid), ch(channels), spec(container), stdin_open(container.tty) {}
  pid_t init;
  Channels& ch;
  const ContainerSpec& spec;
  std::string report;      // setup errors: the init's report (report.h), until EOF
  bool setup_done = false;
  int interrupted_by = 0;  // a signal that came before setup was done
  UniqueFd pty_master;
  std::optional<RawTerminal> raw_terminal;  // restores the user's terminal on every return
  bool stdin_open;
  pid_t stopped_group = 0;  // the pty's job we stopped on Ctrl-Z; continued with us
};

// Setup errors: what the init reports; EOF means setup is done (or the init is gone).
void read_report(Supervision& s) {
  char buf[4096];
  const ssize_t r = ::read(s.ch.report_read.get(), buf, sizeof buf);
  if (r > 0)
    s.report.append(buf, static_cast<size_t>(r));
  else if (r == 0 || errno != EINTR)
    s.setup_done = true;
}

// Output capture: the command's stdout+stderr, for spec.output.
void read_output(Supervision& s) {
  char buf[16384];
  const ssize_t r = ::read(s.ch.output_read.get(), buf, sizeof buf);
  if (r > 0)
    s.spec.output(std::string_view(buf, static_cast<size_t>(r)));
  else if (r == 0)
    s.ch.output_read.reset();
}

// Pty relay, 1: the init hands over the pty's master; from now on the user's terminal is raw and
// relayed. A failed handoff is an error: the command would run without its terminal.
Status accept_pty(Supervision& s) {
  auto master = receive_fd(s.ch.pty_parent.get());
  s.ch.pty_parent.reset();
  if (!master) return master.error().wrap("receive the container's pty");
  s.pty_master = std::move(*master);
  copy_window_size(STDIN_FILENO, s.pty_master.get());
  if (auto raw = RawTerminal::enter(STDIN_FILENO)) s.raw_terminal.emplace(std::move(*raw));
  return {};
}

// Pty relay, 2: the bytes between the master and the user's terminal. EIO on the master: the
// command and everything holding the pty are gone.
void relay_pty(Supervision& s, bool from_master, bool from_stdin) {
  if (from_master && !relay(s.pty_master.get(), STDOUT_FILENO)) s.pty_master.reset();
  if (!from_stdin) return;
  const KeyboardInput in = relay_keyboard(STDIN_FILENO, s.pty_master.get(), s.raw_terminal->suspend_char());
  s.stdin_open = in.open;
  if (in.stopped > 0) {
    // Ctrl-Z stopped the command: give the user's terminal back and stop as its job.
    s.stopped_group = in.stopped;
    s.raw_terminal->restore();
    ::raise(SIGSTOP);
  }
}

// Job control (with a pty): SIGTSTP (`kill -TSTP`) gives the user's terminal back before we stop;
// SIGCONT continues what Ctrl-Z stopped and takes the terminal back in the foreground (`fg`) --
// in the background (`bg`) the terminal stays the user's and stdin is not read (that would stop
// us with SIGTTIN).
void job_control(Supervision& s, int signal) {
  if (signal == SIGTSTP) {
    if (s.raw_terminal) s.raw_terminal->restore();
    ::raise(SIGSTOP);
    return;
  }
  if (s.stopped_group > 0) ::kill(-std::exchange(s.stopped_group, 0), SIGCONT);
  if (s.raw_terminal && !s.raw_terminal->resume())
    s.raw_terminal.reset();
  else if (!s.raw_terminal && s.pty_master.valid())
    if (auto raw = RawTerminal::enter(STDIN_FILENO)) s.raw_terminal.emplace(std::move(*raw));
}

// Signal forwarding: to the init once the command runs; before that, an interrupt ends setup.
void forward_signal(Supervision& s, const signalfd_siginfo& info) {
  if (info.ssi_signo == SIGWINCH && s.pty_master.valid()) {
    copy_window_size(STDIN_FILENO, s.pty_master.get());
  } else if (!s.setup_done) {
    // Interrupted while setting up: there is no command to pass the signal to yet.
    s.interrupted_by = static_cast<int>(info.ssi_signo);
    ::kill(s.init, SIGKILL);
  } else if (!from_terminal(info) || s.spec.tty) {
    // Without a pty of its own the command shares our process group, so the terminal's signals
    // reached the init (and the command) directly.
    ::kill(s.init, static_cast<int>(info.ssi_signo));
  }
}

// The init exited: drain what was written just before (its writers are all gone now) and say how
// the container ended.
Result<int> finish(Supervision& s, int wait_status) {
  log::debug("the container's init exited");
  char buf[16384];
  ssize_t got;
  while (!s.setup_done && (got = ::read(s.ch.report_read.get(), buf, sizeof buf)) > 0)
    s.report.append(buf, static_cast<size_t>(got));
  while (s.ch.output_read.valid() && (got = ::read(s.ch.output_read.get(), buf, sizeof buf)) > 0)
    s.spec.output(std::string_view(buf, static_cast<size_t>(got)));
  if (s.pty_master.valid()) {
    ::fcntl(s.pty_master.get(), F_SETFL, O_NONBLOCK);
    while (relay(s.pty_master.get(), STDOUT_FILENO)) {
    }
  }
  if (!s.report.empty()) return decode_report(s.report);
  if (s.interrupted_by) return 128 + s.interrupted_by;
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

// The outer runtime while the container runs: relays signals to the init until it exits, and
// collects a setup error if it reports one, the command's output if the caller asked for it, and,
// with a pty, the bytes between it and the user's terminal. Returns the command's status.
Result<int> supervise(pid_t init, Channels& ch, int sigfd, const ContainerSpec& spec) {
  Supervision s(init, ch, spec);
  for (;;) {
    struct pollfd pfds[6] = {{sigfd, POLLIN, 0},
                             {s.setup_done ? -1 : ch.report_read.get(), POLLIN, 0},
                             {ch.output_read.valid() ? ch.output_read.get() : -1, POLLIN, 0},
                             {ch.pty_parent.valid() ? ch.pty_parent.get() : -1, POLLIN, 0},
                             {s.pty_master.valid() ? s.pty_master.get() : -1, POLLIN, 0},
                             {s.pty_master.valid() && s.stdin_open && s.raw_terminal ? STDIN_FILENO : -1, POLLIN, 0}};
    const int n = ::poll(pfds, 6, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("poll");
    if (pfds[1].revents) read_report(s);
    if (pfds[2].revents) read_output(s);
    if (pfds[3].revents)
      if (auto ok = accept_pty(s); !ok) {
        ::kill(init, SIGKILL);
        ::waitpid(init, nullptr, 0);
        return ok.error();
      }
    relay_pty(s, pfds[4].revents != 0, pfds[5].revents != 0);
    if (!pfds[0].revents) continue;
    signalfd_siginfo info{};
    if (::read(sigfd, &info, sizeof info) != sizeof info) continue;
    if (info.ssi_signo == SIGTSTP || info.ssi_signo == SIGCONT) {
      job_control(s, static_cast<int>(info.ssi_signo));
      continue;
    }
    if (info.ssi_signo != SIGCHLD) {
      forward_signal(s, info);
      continue;
    }
    int status = 0;
    if (::waitpid(init, &status, WNOHANG) == init) return finish(s, status);
  }
}

}  // namespace

Result<int> run_container(const ContainerSpec& spec) {
  if (!spec.image && ::geteuid() != 0) return error("a directory root needs root (havre-pack's run steps)");
  if (spec.rootless != spec.exec.in_user_namespace || (spec.backend == ImageBackend::kDirectory) != !spec.image)
    return error("internal error: an inconsistent container spec");
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
  SigpipeIgnored no_sigpipe;
  auto sigfd = block_into_signalfd(spec.tty);
  if (!sigfd) return sigfd.error();
  auto ch = Channels::make(spec.rootless || cgroup, spec.tty, static_cast<bool>(spec.output), true);
  if (!ch) return ch.error();

  log::debug("cloning the container's init");
  auto pid = clone_into_namespaces(container_clone_flags(spec.opts.net_none, spec.rootless));
  if (!pid) {
    if (spec.rootless) return error(user_namespace_error(pid.error().errnum));
    return pid.error();
  }
  if (*pid == 0) {
    ch->keep_child_ends();
    sigfd->reset();
    container_child(spec, ChildEnds{std::move(ch->report_write), std::move(ch->alive_read),
                                    std::move(ch->output_write), std::move(ch->go_read),
                                    std::move(ch->pty_child), std::move(ch->filter_read)});
  }
  ch->keep_parent_ends();
  // Before supervise() takes over: a failure here (EPIPE, say, because the init already failed) is
  // reported as the init's own error when it left one.
  auto abandon = [&](Error err) -> Error {
    ::kill(*pid, SIGKILL);
    ::waitpid(*pid, nullptr, 0);
    const std::string report = read_to_end(ch->report_read.get());  // its writers died with the init
    return report.empty() ? err : decode_report(report);
  };
  // The caller is root inside a user namespace (the init needs that to build the root); --user is
  // applied to the command alone, in a nested user namespace (exec.cpp).
  if (spec.rootless)
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
  // The seccomp filters are compiled here while the init mounts, on the other core.
  {
    auto filters = compile_filters(spec.exec);
    if (!filters) return abandon(filters.error());
    if (::write(ch->filter_write.get(), filters->data(), filters->size()) != static_cast<ssize_t>(filters->size()))
      return abandon(sys_error("hand the seccomp filters to the container"));
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

ContainerOptions container_options(const RunOptions& opts) {
  return ContainerOptions{opts.binds, opts.persist_dir, opts.read_only, opts.net_none, opts.limits};
}

namespace {
bool env_is(const char* name, const char* value) {
  const char* v = std::getenv(name);
  return v != nullptr && std::strcmp(v, value) == 0;
}
}  // namespace

Result<int> run(const Appliance& app, const RunOptions& opts) {
  if (!app.manifest) return error(app.path + ": no manifest (" + app.manifest_problem + ")");
  ContainerSpec spec;
  spec.image = &app;
  spec.opts = container_options(opts);
  // Decided here, once: without root (or with --rootless) the container gets a user namespace,
  // and the image comes over FUSE or, without a usable /dev/fuse, from a copy extracted once into
  // the user's cache.
  spec.rootless = opts.rootless || ::geteuid() != 0;
  spec.backend = choose_image_backend(spec.rootless);
  if (spec.backend == ImageBackend::kExtracted) {
    auto dir = extracted_copy(app, "FUSE is not available");
    if (!dir) return dir.error().wrap("FUSE is not available and extracting the image failed");
    spec.extracted_root = *dir;
  } else if (auto warm = warm_copy(app)) {
    // This file's image, extracted and verified by an earlier run: no mount, and the page cache of
    // the tree survives between runs (docs/benchmarks.md).
    spec.backend = ImageBackend::kExtracted;
    spec.extracted_root = *warm;
  }
  const bool fill_warm_copy = spec.backend != ImageBackend::kExtracted && env_is("HAVRE_WARM_COPY", "1");
  spec.exec = make_exec_spec(*app.manifest, opts, std::getenv("TERM"));
  spec.exec.in_user_namespace = spec.rootless;
  spec.tty = wants_pty();
  spec.hostname = !opts.hostname.empty()            ? opts.hostname
                  : !app.manifest->hostname.empty() ? app.manifest->hostname
                  : !app.manifest->name.empty()     ? app.manifest->name
                                                    : "havre";
  auto status = run_container(spec);
  // HAVRE_WARM_COPY=1: after the first run, the image is hashed and extracted for the next ones.
  if (status && fill_warm_copy)
    if (auto made = extracted_copy(app, nullptr); !made)
      log::warn("no warm copy: %s", made.error().message().c_str());
  return status;
}

}  // namespace havre::runtime
