#include "process.h"

#include <poll.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>

#include "base/unique_fd.h"
#include "interrupt.h"

extern char** environ;

namespace havre::pack {
namespace {

constexpr size_t kKeepOutput = 16 << 10;

constexpr int kGraceMs = 2000;

// Owns a child process and its process group: killed and reaped if still running when the owner goes.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  ~Child() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  /// Asks the whole group to stop; after the grace period, forces it.
  void terminate() {
    const auto now = std::chrono::steady_clock::now();
    if (!terminated_at_) {
      terminated_at_ = now;
      ::kill(-pid_, SIGTERM);
    } else if (now - *terminated_at_ > std::chrono::milliseconds(kGraceMs)) {
      ::kill(-pid_, SIGKILL);
    }
  }
  /// Waits for exit. Returns the wait status.
  Result<int> wait(const std::string& name) {
    int status = 0;
    for (;;) {
      pid_t r = ::waitpid(pid_, &status, 0);
      if (r == pid_) break;
      if (r < 0 && errno != EINTR) return sys_error("waitpid " + name);
      if (interrupted()) terminate();
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_;
  std::optional<std::chrono::steady_clock::time_point> terminated_at_;
};

// argv[0] as execvp would find it; a name that is not found is returned as it is (execve then fails
// with ENOENT).
std::string find_in_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;
}

// The forked child: dies with havre-pack (even kill -9: PR_SET_PDEATHSIG, checked against a parent
// that is already gone), then takes its stdio and execs. System calls only; never returns.
[[noreturn]] void exec_child(const char* path, char* const* argv, char* const* envp, pid_t parent,
                             const SpawnSpec& spec, int exec_errno_fd) {
  if (::prctl(PR_SET_PDEATHSIG, spec.death_signal) != 0 || ::getppid() != parent) ::_exit(127);
  if (spec.own_group) ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  const int in = spec.stdin_fd >= 0 ? spec.stdin_fd : ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in < 0 || ::dup2(in, STDIN_FILENO) < 0 || (spec.stdout_fd >= 0 && ::dup2(spec.stdout_fd, STDOUT_FILENO) < 0) ||
      (spec.stderr_fd >= 0 && ::dup2(spec.stderr_fd, STDERR_FILENO) < 0)) {
    const int err = errno;
    (void)!::write(exec_errno_fd, &err, sizeof err);
    ::_exit(127);
  }
  ::execve(path, argv, envp);
  const int err = errno;
  (void)!::write(exec_errno_fd, &err, sizeof err);
  ::_exit(127);
}

}  // namespace

Result<pid_t> spawn(const SpawnSpec& spec) {
  const std::string& name = spec.argv.at(0);
  // Everything the child needs is made before the fork: between fork and exec it only makes
  // system calls (libcurl's threads may hold malloc's locks).
  const std::string path = find_in_path(name);
  std::vector<char*> cargv, cenv;
  for (const std::string& a : spec.argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  // extra_env replaces a variable we have (getenv() would find our copy first).
  auto overridden = [&spec](std::string_view var) {
    const std::string_view name = var.substr(0, var.find('='));
    return std::any_of(spec.extra_env.begin(), spec.extra_env.end(), [name](const std::string& e) {
      return std::string_view(e).substr(0, e.find('=')) == name;
    });
  };
  for (char** e = environ; *e; ++e)
    if (!overridden(*e)) cenv.push_back(*e);
  for (const std::string& e : spec.extra_env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  int exec_fds[2];  // the child writes execve's errno here; end of file means the exec worked
  if (::pipe2(exec_fds, O_CLOEXEC) != 0) return sys_error("pipe for " + name);
  UniqueFd exec_read(exec_fds[0]), exec_write(exec_fds[1]);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork for " + name);
  if (pid == 0) exec_child(path.c_str(), cargv.data(), cenv.data(), parent, spec, exec_write.get());
  // A group of its own: set on both sides, so a kill right after fork finds it.
  if (spec.own_group) ::setpgid(pid, pid);
  exec_write.reset();
  int exec_errno = 0;
  ssize_t got;
  while ((got = ::read(exec_read.get(), &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return sys_error(exec_errno, "run " + name);
  }
  return pid;
}

void LineSplitter::feed(std::string_view bytes) {
  pending_.append(bytes);
  size_t start = 0;
  for (size_t nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n', start)) {
    on_line_(pending_.substr(start, nl - start));
    start = nl + 1;
  }
  pending_.erase(0, start);
}

void LineSplitter::flush() {
  if (!pending_.empty()) on_line_(pending_);
  pending_.clear();
}

Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const std::function<void(const std::string&)>& on_line,
                                  const std::vector<std::string>& extra_env) {
  const std::string& name = argv.at(0);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe for " + name);
  UniqueFd read_end(fds[0]), write_end(fds[1]);

  SpawnSpec spec;
  spec.argv = argv;
  spec.extra_env = extra_env;
  spec.stdout_fd = spec.stderr_fd = write_end.get();
  auto pid = spawn(spec);
  if (!pid) return pid.error();
  Child child(*pid);
  write_end.reset();

  ProcessResult result;
  LineSplitter lines(on_line ? on_line : [](const std::string&) {});
  char buf[8192];
  for (;;) {
    // Polling with a timeout, not a bare read(): a signal that lands just before a blocking read
    // would otherwise go unnoticed until the child writes or exits.
    if (interrupted()) child.terminate();
    struct pollfd pfd = {read_end.get(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, 100);
    if (ready < 0 && errno != EINTR) return sys_error("poll output of " + name);
    if (ready <= 0) continue;
    ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read output of " + name);
    if (n == 0) break;
    result.output.append(buf, static_cast<size_t>(n));
    if (on_line) lines.feed(std::string_view(buf, static_cast<size_t>(n)));
    if (result.output.size() > 2 * kKeepOutput) result.output.erase(0, result.output.size() - kKeepOutput);
  }
  if (on_line) lines.flush();
  auto status = child.wait(name);
  if (!status) return status.error();
  result.status = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  if (auto ok = check_interrupted(); !ok) return ok.error();
  return result;
}

}  // namespace havre::pack
