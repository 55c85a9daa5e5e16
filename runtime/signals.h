// Signals the runtime relays to the command, read through a signalfd.
#pragma once

#include <signal.h>
#include <sys/signalfd.h>

#include "base/error.h"
#include "base/unique_fd.h"

namespace havre::runtime {

/// TERM INT HUP QUIT USR1 USR2 WINCH: forwarded to the command.
sigset_t forwarded_signals();

/// Blocks forwarded_signals() + SIGCHLD and returns a signalfd reading them. With `job_control`
/// (the outer runtime relaying a pty) SIGTSTP and SIGCONT too: it restores the user's terminal
/// before it stops and takes it back when continued in the foreground.
Result<UniqueFd> block_into_signalfd(bool job_control = false);

/// A signal sent by the terminal driver to our whole process group (Ctrl-C, resize) reached the
/// command directly; forwarding it too would deliver it twice.
inline bool from_terminal(const signalfd_siginfo& info) { return info.ssi_code == SI_KERNEL; }

}  // namespace havre::runtime
