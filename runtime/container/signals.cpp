#include "container/signals.h"

#include <sys/signalfd.h>

namespace havre::runtime {

sigset_t forwarded_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) sigaddset(&set, sig);
  return set;
}

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, sig);
  return set;
}

void block_stop_signals() {
  const sigset_t set = stop_signals();
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_stop_signal() {
  block_stop_signals();
  const sigset_t set = stop_signals();
  int sig = 0;
  ::sigwait(&set, &sig);
  return sig;
}

void reset_signals_for_exec() {
  for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
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

SigpipeIgnored::SigpipeIgnored() {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGPIPE, &ignore, &saved_);
}

SigpipeIgnored::~SigpipeIgnored() { ::sigaction(SIGPIPE, &saved_, nullptr); }

}  // namespace havre::runtime
