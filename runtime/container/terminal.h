// Terminals: with a terminal on stdin and stdout, the command gets a pseudo-terminal of the
// container's own devpts (so `tty` names /dev/pts/0 inside and job control works there), and the
// runtime relays bytes and window sizes between it and the user's terminal, which it puts in raw mode.
#pragma once

#include <sys/types.h>
#include <termios.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace havre::runtime {

/// Our process group is the foreground group of the terminal on `fd` (tcgetpgrp == getpgrp). A
/// background runtime (`timeout`, `&`, `bg`) must not touch the terminal: SIGTTOU would stop it.
bool in_foreground(int fd);

/// Stdin and stdout are both terminals and we are in the terminal's foreground process group: the
/// command gets a pty of its own. In the background it inherits the caller's fds instead, as without
/// a terminal, so nothing can stop the runtime on the way in or out.
bool wants_pty();

/// In the container (devpts mounted at /dev/pts): a new pty. Returns the master and the slave's path.
Result<std::pair<UniqueFd, std::string>> open_container_pty();

/// fd passing over a unix socket (SCM_RIGHTS): the init hands the pty master to the outer runtime.
Status send_fd(int socket, int fd);
Result<UniqueFd> receive_fd(int socket);

/// The user's terminal in raw mode for as long as this lives; restored on every exit path. Only a
/// foreground runtime enters raw mode; restoring never stops the runtime, even from the background.
class RawTerminal {
 public:
  /// Raw mode on `fd`; an error when we are not in the foreground (then nothing was changed).
  static Result<RawTerminal> enter(int fd);
  RawTerminal(RawTerminal&& other) noexcept : fd_(other.fd_), saved_(other.saved_), raw_(other.raw_) {
    other.fd_ = -1;
  }
  RawTerminal(const RawTerminal&) = delete;
  ~RawTerminal();

  /// Before we stop (SIGTSTP), or when we find ourselves in the background: the saved settings back.
  void restore();
  /// After SIGCONT: raw again if we are in the foreground now. True when raw.
  bool resume();
  /// The user's suspend character (Ctrl-Z) when their terminal generates signals, else _POSIX_VDISABLE.
  cc_t suspend_char() const { return (saved_.c_lflag & ISIG) ? saved_.c_cc[VSUSP] : _POSIX_VDISABLE; }

 private:
  RawTerminal(int fd, const termios& saved) : fd_(fd), saved_(saved) {}
  int fd_;
  termios saved_;
  bool raw_ = true;
};

/// Keyboard input for the pty master `to`, read from `from`. `open` is false at the end of input.
/// The command's process group is orphaned (its parent, the init, is in another session), so a
/// Ctrl-Z typed into the pty would be discarded by the kernel: when the pty's foreground group takes
/// SIGTSTP's default action, the suspend character stops that group with SIGSTOP instead, and
/// `stopped` names it so the caller can stop too (and continue it with SIGCONT). Programs that catch
/// or ignore SIGTSTP (shells, editors) get the character as typed.
struct KeyboardInput {
  bool open = true;
  pid_t stopped = 0;
};
KeyboardInput relay_keyboard(int from, int to, cc_t suspend);

/// Copies the window size of the terminal `from` to the pty master `to` (the kernel then sends
/// SIGWINCH to the pty's foreground process group).
void copy_window_size(int from, int to);

}  // namespace havre::runtime
