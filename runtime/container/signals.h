// Signals the runtime relays to the command, read through a signalfd.
#pragma once

#include <signal.h>
#include <sys/signalfd.h>

#include "base/error.h"
#include "base/unique_fd.h"

namespace havre::runtime {

/// TERM INT HUP QUIT USR1 USR2 WINCH: forwarded to the command.
sigset_t forwarded_signals();

/// INT TERM HUP: what ends `./app mount` (inspect.cpp).
sigset_t stop_signals();

/// Blocks stop_signals() (FUSE server threads started afterwards inherit the mask, so the signals
/// stay for sigwait) and waits for one of them.
void block_stop_signals();
int wait_for_stop_signal();

/// Every signal back to its default action and none blocked: how a command starts (exec.cpp).
void reset_signals_for_exec();

/// Blocks forwarded_signals() + SIGCHLD and returns a signalfd reading them. With `job_control`
/// (the outer runtime relaying a pty) SIGTSTP and SIGCONT too: it restores the user's terminal
/// before it stops and takes it back when continued in the foreground.
Result<UniqueFd> block_into_signalfd(bool job_control = false);

/// Ignores SIGPIPE while it lives, then restores the previous action: a write to a pipe whose
/// reader is gone (the container's init died during setup) then fails with EPIPE, and the caller
/// reports the init's own error instead of dying silently with 141. Commands start with SIG_DFL
/// (exec.cpp resets every signal).
class SigpipeIgnored {
 public:
  SigpipeIgnored();
  ~SigpipeIgnored();
  SigpipeIgnored(const SigpipeIgnored&) = delete;
  SigpipeIgnored& operator=(const SigpipeIgnored&) = delete;

 private:
  struct sigaction saved_ {};
};

/// A signal sent by the terminal driver to our whole process group (Ctrl-C, resize) reached the
/// command directly; forwarding it too would deliver it twice.
inline bool from_terminal(const signalfd_siginfo& info) { return info.ssi_code == SI_KERNEL; }

}  // namespace havre::runtime
