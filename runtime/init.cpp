#include "init.h"

#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "signals.h"

namespace havre::runtime {
namespace {

int exit_code(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

[[noreturn]] void fail(UniqueFd& report, const Error& err) {
  const std::string msg = err.message();
  ssize_t ignored = ::write(report.get(), msg.data(), msg.size());
  (void)ignored;
  ::_exit(125);
}

}  // namespace

void run_init(const ExecSpec& spec, UniqueFd report) {
  auto sigfd = block_into_signalfd();
  if (!sigfd) fail(report, sigfd.error());

  const pid_t child = ::fork();
  if (child < 0) fail(report, sys_error("fork the command"));
  if (child == 0) exec_command(spec);
  report.reset();  // EOF on the pipe: setup succeeded
  const bool shares_terminal = command_shares_terminal(spec);

  for (;;) {
    signalfd_siginfo info{};
    if (::read(sigfd->get(), &info, sizeof info) != sizeof info) {
      if (errno == EINTR) continue;
      ::_exit(125);
    }
    if (info.ssi_signo != SIGCHLD) {
      // From the outer runtime or another process: pass it on. A signal from the terminal already
      // reached the command if it shares our process group.
      if (!(from_terminal(info) && shares_terminal)) ::kill(child, static_cast<int>(info.ssi_signo));
      continue;
    }
    log::debug("SIGCHLD");
    // Reap everything: orphans re-parented to us as well as the command.
    for (;;) {
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      // When the command is gone, so is the container: exiting makes the kernel kill the rest.
      if (pid == child) ::_exit(exit_code(status));
    }
  }
}

}  // namespace havre::runtime
