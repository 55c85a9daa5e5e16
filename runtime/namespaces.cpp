#include "namespaces.h"

#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "base/unique_fd.h"

namespace havre::runtime {

int container_clone_flags(bool new_network) {
  return CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | (new_network ? CLONE_NEWNET : 0);
}

Result<pid_t> clone_into_namespaces(int flags) {
  // Raw clone with a NULL stack behaves like fork: the child continues here on a copy of our stack.
  // The runtime is single-threaded, so nothing else needs care.
  long pid = ::syscall(SYS_clone, static_cast<unsigned long>(flags | SIGCHLD), nullptr, nullptr, nullptr, 0);
  if (pid < 0) return sys_error("clone (new mount, PID, UTS, IPC namespaces)");
  return static_cast<pid_t>(pid);
}

Status set_hostname(const std::string& name) {
  if (::sethostname(name.c_str(), name.size()) != 0) return sys_error("sethostname " + name);
  return {};
}

Status bring_up_loopback() {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return sys_error("socket for loopback setup");
  struct ifreq ifr {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) return sys_error("SIOCGIFFLAGS lo");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0) return sys_error("SIOCSIFFLAGS lo");
  return {};
}

}  // namespace havre::runtime
