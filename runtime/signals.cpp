#include "signals.h"

#include <sys/signalfd.h>

namespace havre::runtime {

sigset_t forwarded_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) sigaddset(&set, sig);
  return set;
}

Result<UniqueFd> block_into_signalfd(bool job_control) {
  sigset_t set = forwarded_signals();
  sigaddset(&set, SIGCHLD);
  if (job_control) {
    sigaddset(&set, SIGTSTP);
    sigaddset(&set, SIGCONT);
  }
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return sys_error("sigprocmask");
  int fd = ::signalfd(-1, &set, SFD_CLOEXEC);
  if (fd < 0) return sys_error("signalfd");
  return UniqueFd(fd);
}

}  // namespace havre::runtime
