#include "process.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
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

}  // namespace

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

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDERR_FILENO);
  // A group of its own: the terminal's Ctrl-C reaches only us, and we stop the whole group (helpers
  // the child starts included) in one kill.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> cargv, cenv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  // extra_env replaces a variable we have (getenv() would find our copy first).
  auto overridden = [&extra_env](std::string_view var) {
    const std::string_view name = var.substr(0, var.find('='));
    return std::any_of(extra_env.begin(), extra_env.end(), [name](const std::string& e) {
      return std::string_view(e).substr(0, e.find('=')) == name;
    });
  };
  for (char** e = environ; *e; ++e)
    if (!overridden(*e)) cenv.push_back(*e);
  for (const std::string& e : extra_env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, name.c_str(), &actions, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return sys_error(rc, "run " + name);
  Child child(pid);
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
