// Terminals: with a terminal on stdin and stdout, the command gets a pseudo-terminal of the
// container's own devpts (so `tty` names /dev/pts/0 inside and job control works there), and the
// runtime relays bytes and window sizes between it and the user's terminal, which it puts in raw mode.
#pragma once

#include <termios.h>

#include <optional>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace havre::runtime {

/// Stdin and stdout are both terminals: the command gets a pty of its own.
bool wants_pty();

/// In the container (devpts mounted at /dev/pts): a new pty. Returns the master and the slave's path.
Result<std::pair<UniqueFd, std::string>> open_container_pty();

/// fd passing over a unix socket (SCM_RIGHTS): the init hands the pty master to the outer runtime.
Status send_fd(int socket, int fd);
Result<UniqueFd> receive_fd(int socket);

/// The user's terminal in raw mode for as long as this lives; restored on every exit path.
class RawTerminal {
 public:
  static Result<RawTerminal> enter(int fd);
  RawTerminal(RawTerminal&& other) noexcept : fd_(other.fd_), saved_(other.saved_) { other.fd_ = -1; }
  RawTerminal(const RawTerminal&) = delete;
  ~RawTerminal();

 private:
  RawTerminal(int fd, const termios& saved) : fd_(fd), saved_(saved) {}
  int fd_;
  termios saved_;
};

/// Copies the window size of the terminal `from` to the pty master `to` (the kernel then sends
/// SIGWINCH to the pty's foreground process group).
void copy_window_size(int from, int to);

}  // namespace havre::runtime
