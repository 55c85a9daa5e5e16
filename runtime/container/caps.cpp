#include "container/caps.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace havre::runtime {
namespace {

struct Named {
  const char* name;
  int cap;
};

// The names of capabilities 0..CAP_LAST_CAP (capabilities(7)).
constexpr Named kNames[] = {
    {"CHOWN", 0},
    {"DAC_OVERRIDE", 1},
    {"DAC_READ_SEARCH", 2},
    {"FOWNER", 3},
    {"FSETID", 4},
    {"KILL", 5},
    {"SETGID", 6},
    {"SETUID", 7},
    {"SETPCAP", 8},
    {"LINUX_IMMUTABLE", 9},
    {"NET_BIND_SERVICE", 10},
    {"NET_BROADCAST", 11},
    {"NET_ADMIN", 12},
    {"NET_RAW", 13},
    {"IPC_LOCK", 14},
    {"IPC_OWNER", 15},
    {"SYS_MODULE", 16},
    {"SYS_RAWIO", 17},
    {"SYS_CHROOT", 18},
    {"SYS_PTRACE", 19},
    {"SYS_PACCT", 20},
    {"SYS_ADMIN", 21},
    {"SYS_BOOT", 22},
    {"SYS_NICE", 23},
    {"SYS_RESOURCE", 24},
    {"SYS_TIME", 25},
    {"SYS_TTY_CONFIG", 26},
    {"MKNOD", 27},
    {"LEASE", 28},
    {"AUDIT_WRITE", 29},
    {"AUDIT_CONTROL", 30},
    {"SETFCAP", 31},
    {"MAC_OVERRIDE", 32},
    {"MAC_ADMIN", 33},
    {"SYSLOG", 34},
    {"WAKE_ALARM", 35},
    {"BLOCK_SUSPEND", 36},
    {"AUDIT_READ", 37},
    {"PERFMON", 38},
    {"BPF", 39},
    {"CHECKPOINT_RESTORE", 40},
};

Result<CapSet> parse_cap(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
  if (name == "ALL") return ~CapSet{0} >> (63 - CAP_LAST_CAP);
  if (name.rfind("CAP_", 0) == 0) name = name.substr(4);
  for (const Named& n : kNames)
    if (name == n.name) return CapSet{1} << n.cap;
  return error("unknown capability '" + name + "' (see capabilities(7))");
}

}  // namespace

CapSet default_capabilities() {
  CapSet set = 0;
  for (int cap :
       {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID, CAP_SETUID,
        CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE})
    set |= CapSet{1} << cap;
  return set;
}

Result<CapSet> adjust_capabilities(CapSet set, const std::vector<std::string>& add,
                                   const std::vector<std::string>& drop) {
  for (const std::string& name : drop) {
    auto caps = parse_cap(name);
    if (!caps) return caps.error().wrap("--cap-drop");
    set &= ~*caps;
  }
  for (const std::string& name : add) {
    auto caps = parse_cap(name);
    if (!caps) return caps.error().wrap("--cap-add");
    set |= *caps;
  }
  return set;
}

Status drop_bounding_set(CapSet keep) {
  // Needs CAP_SETPCAP, so before the process's own sets lose it.
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (keep & (CapSet{1} << cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
      return sys_error("drop capability " + std::to_string(cap) + " from the bounding set");
  }
  return {};
}

Status limit_capabilities(CapSet keep) {
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return sys_error("clear the ambient capabilities");
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return sys_error("capget");
  for (int i = 0; i < 2; ++i) {
    const auto mask = static_cast<std::uint32_t>(keep >> (32 * i));
    data[i].effective &= mask;
    data[i].permitted &= mask;
    data[i].inheritable &= mask;
  }
  if (::syscall(SYS_capset, &header, data) != 0) return sys_error("capset");
  // Nothing executed from here on (setuid binaries, file capabilities) can gain privileges.
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return sys_error("prctl(PR_SET_NO_NEW_PRIVS)");
  return {};
}

Status restrict_capabilities(CapSet keep) {
  if (auto ok = drop_bounding_set(keep); !ok) return ok;
  return limit_capabilities(keep);
}

}  // namespace havre::runtime
