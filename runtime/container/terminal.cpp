#include "container/terminal.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <span>

#include "base/io.h"

namespace havre::runtime {

bool in_foreground(int fd) {
  const pid_t foreground = ::tcgetpgrp(fd);
  return foreground > 0 && foreground == ::getpgrp();
}

bool wants_pty() {
  return ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1 && in_foreground(STDIN_FILENO);
}

Result<std::pair<UniqueFd, std::string>> open_container_pty() {
  auto master = open_fd("/dev/pts/ptmx", O_RDWR | O_NOCTTY);
  if (!master) return master.error();
  int unlock = 0;
  if (::ioctl(master->get(), TIOCSPTLCK, &unlock) != 0) return sys_error("unlock the pty");
  unsigned number = 0;
  if (::ioctl(master->get(), TIOCGPTN, &number) != 0) return sys_error("get the pty number");
  return std::pair{std::move(*master), "/dev/pts/" + std::to_string(number)};
}

namespace {

// One byte of payload carrying one fd in an SCM_RIGHTS control message.
struct FdMessage {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  FdMessage() {
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
  }
  FdMessage(const FdMessage&) = delete;
};

}  // namespace

Status send_fd(int socket, int fd) {
  FdMessage m;
  cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  if (::sendmsg(socket, &m.msg, MSG_NOSIGNAL) != 1) return sys_error("send the pty to the runtime");
  return {};
}

Result<UniqueFd> receive_fd(int socket) {
  FdMessage m;
  const ssize_t n = ::recvmsg(socket, &m.msg, MSG_CMSG_CLOEXEC);
  if (n < 0) return sys_error("receive the pty");
  cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
  if (n == 0 || c == nullptr || c->cmsg_type != SCM_RIGHTS) return error("the container sent no pty");
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
  return UniqueFd(fd);
}

namespace {

// tcsetattr() from a background process group stops the caller with SIGTTOU unless SIGTTOU is
// blocked (the kernel's tty_check_change): blocked around the call, setting the terminal never stops
// us. Callers check in_foreground() first where changing a foreground job's terminal would be wrong.
int set_attributes(int fd, int when, const termios& settings) {
  sigset_t ttou, saved;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  ::sigprocmask(SIG_BLOCK, &ttou, &saved);
  const int rc = ::tcsetattr(fd, when, &settings);
  const int err = errno;
  ::sigprocmask(SIG_SETMASK, &saved, nullptr);
  errno = err;
  return rc;
}

int make_raw(int fd, const termios& saved) {
  termios raw = saved;
  ::cfmakeraw(&raw);
  return set_attributes(fd, TCSANOW, raw);
}

}  // namespace

Result<RawTerminal> RawTerminal::enter(int fd) {
  if (!in_foreground(fd)) return error("the terminal belongs to another process group");
  termios saved{};
  if (::tcgetattr(fd, &saved) != 0) return sys_error("read the terminal's settings");
  if (make_raw(fd, saved) != 0) return sys_error("put the terminal in raw mode");
  return RawTerminal(fd, saved);
}

void RawTerminal::restore() {
  if (fd_ >= 0 && raw_) set_attributes(fd_, TCSAFLUSH, saved_);
  raw_ = false;
}

bool RawTerminal::resume() {
  if (fd_ >= 0 && !raw_ && in_foreground(fd_)) raw_ = make_raw(fd_, saved_) == 0;
  if (raw_ && !in_foreground(fd_)) restore();  // continued in the background (`bg`)
  return raw_;
}

RawTerminal::~RawTerminal() { restore(); }

namespace {

// The pty's foreground process group (a pid of our namespace) when its leader takes SIGTSTP's
// default action (neither SigIgn nor SigCgt in /proc/PID/status has the bit); 0 otherwise.
pid_t stoppable_foreground(int master) {
  pid_t group = 0;
  if (::ioctl(master, TIOCGPGRP, &group) != 0 || group <= 0) return 0;
  std::ifstream status("/proc/" + std::to_string(group) + "/status");
  std::string line;
  unsigned long long handled = 0;
  bool read_any = false;
  while (std::getline(status, line))
    if (line.rfind("SigIgn:", 0) == 0 || line.rfind("SigCgt:", 0) == 0) {
      handled |= std::stoull(line.substr(7), nullptr, 16);
      read_any = true;
    }
  if (!read_any || (handled & (1ULL << (SIGTSTP - 1)))) return 0;
  return group;
}

}  // namespace

KeyboardInput relay_keyboard(int from, int to, cc_t suspend) {
  char buf[4096];
  const ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return {n < 0 && errno == EINTR, 0};
  const auto* cut = suspend == _POSIX_VDISABLE ? nullptr
                                               : static_cast<const char*>(std::memchr(buf, suspend, n));
  const pid_t group = cut ? stoppable_foreground(to) : 0;
  auto bytes = std::as_bytes(std::span(buf, static_cast<size_t>(n)));
  if (group <= 0) return {static_cast<bool>(write_all(to, bytes, "the pty")), 0};
  const auto before = static_cast<size_t>(cut - buf);
  if (!write_all(to, bytes.first(before), "the pty")) return {false, 0};
  ::kill(-group, SIGSTOP);
  // What was typed after Ctrl-Z waits in the pty, as a terminal keeps it for a stopped job.
  if (!write_all(to, bytes.subspan(before + 1), "the pty")) return {false, group};
  return {true, group};
}

void copy_window_size(int from, int to) {
  winsize size{};
  if (::ioctl(from, TIOCGWINSZ, &size) == 0) ::ioctl(to, TIOCSWINSZ, &size);
}

}  // namespace havre::runtime
