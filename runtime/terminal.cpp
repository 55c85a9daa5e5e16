#include "terminal.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace havre::runtime {

bool wants_pty() { return ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1; }

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

Result<RawTerminal> RawTerminal::enter(int fd) {
  termios saved{};
  if (::tcgetattr(fd, &saved) != 0) return sys_error("read the terminal's settings");
  termios raw = saved;
  ::cfmakeraw(&raw);
  if (::tcsetattr(fd, TCSANOW, &raw) != 0) return sys_error("put the terminal in raw mode");
  return RawTerminal(fd, saved);
}

RawTerminal::~RawTerminal() {
  if (fd_ >= 0) ::tcsetattr(fd_, TCSAFLUSH, &saved_);
}

void copy_window_size(int from, int to) {
  winsize size{};
  if (::ioctl(from, TIOCGWINSZ, &size) == 0) ::ioctl(to, TIOCSWINSZ, &size);
}

}  // namespace havre::runtime
