#include "container/namespaces.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "base/io.h"
#include "base/unique_fd.h"

namespace havre::runtime {

int container_clone_flags(bool new_network, bool new_user) {
  return CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | (new_network ? CLONE_NEWNET : 0) |
         (new_user ? CLONE_NEWUSER : 0);
}

namespace {

std::string read_setting(const char* path) {
  char buf[32] = {};
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid() || ::read(fd.get(), buf, sizeof buf - 1) <= 0) return "";
  std::string v(buf);
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

}  // namespace

std::string id_map_line(unsigned inside, unsigned outside) {
  return std::to_string(inside) + " " + std::to_string(outside) + " 1\n";
}

Status write_id_maps(pid_t pid, unsigned inside_uid, unsigned inside_gid, unsigned outside_uid,
                     unsigned outside_gid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  if (auto ok = write_control_file(proc + "/setgroups", "deny\n"); !ok) return ok;
  if (auto ok = write_control_file(proc + "/uid_map", id_map_line(inside_uid, outside_uid)); !ok) return ok;
  return write_control_file(proc + "/gid_map", id_map_line(inside_gid, outside_gid));
}

std::string user_namespace_error(int err) {
  std::string why;
  if (read_setting("/proc/sys/kernel/unprivileged_userns_clone") == "0")
    why = "the sysctl kernel.unprivileged_userns_clone is 0";
  else if (read_setting("/proc/sys/user/max_user_namespaces") == "0")
    why = "the sysctl user.max_user_namespaces is 0";
  else if (read_setting("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1")
    why =
        "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)";
  else
    why = std::string("the kernel refused (") + std::strerror(err) +
          "; seccomp or a container runtime may block it)";
  return "cannot create a user namespace to run without root: " + why +
         ". Ask an administrator to allow unprivileged user namespaces, or run as root (sudo)";
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
