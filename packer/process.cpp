#include "process.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/unique_fd.h"
#include "interrupt.h"

extern char** environ;

namespace havre::pack {
namespace {

constexpr size_t kKeepOutput = 16 << 10;

// Owns a child process: killed and reaped if still running when the owner goes away.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  ~Child() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  // Waits for exit; an interrupt terminates the child first. Returns the wait status.
  Result<int> wait(const std::string& name) {
    int status = 0;
    bool terminated = false;
    for (;;) {
      pid_t r = ::waitpid(pid_, &status, 0);
      if (r == pid_) break;
      if (r < 0 && errno != EINTR) return sys_error("waitpid " + name);
      if (interrupted() && !terminated) {
        ::kill(pid_, SIGTERM);
        terminated = true;
      }
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_;
};

}  // namespace

Result<ProcessResult> run_process(const std::vector<std::string>& argv) {
  const std::string& name = argv.at(0);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe for " + name);
  UniqueFd read_end(fds[0]), write_end(fds[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDERR_FILENO);
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, name.c_str(), &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return sys_error(rc, "run " + name);
  Child child(pid);
  write_end.reset();

  ProcessResult result;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      if (interrupted()) ::kill(pid, SIGTERM);
      continue;
    }
    if (n < 0) return sys_error("read output of " + name);
    if (n == 0) break;
    result.output.append(buf, static_cast<size_t>(n));
    if (result.output.size() > 2 * kKeepOutput) result.output.erase(0, result.output.size() - kKeepOutput);
  }
  auto status = child.wait(name);
  if (!status) return status.error();
  result.status = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  if (auto ok = check_interrupted(); !ok) return ok.error();
  return result;
}

}  // namespace havre::pack
