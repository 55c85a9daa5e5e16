#include "container/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "base/io.h"
#include "base/log.h"
#include "base/size.h"

namespace havre::runtime {
namespace {

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == sep) {
      out.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  for (const std::string& s : list)
    if (s == item) return true;
  return false;
}

// mountinfo escapes blanks, tabs, newlines and backslashes in paths as \ooo.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      out += static_cast<char>(std::strtol(s.substr(i + 1, 3).c_str(), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct CgroupMount {
  std::string root, mountpoint;
  bool v2 = false;
  std::vector<std::string> controllers;  // v1: from the super options
};

std::vector<CgroupMount> cgroup_mounts(std::string_view mountinfo) {
  std::vector<CgroupMount> mounts;
  for (const std::string& line : split(mountinfo, '\n')) {
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream before(line.substr(0, dash)), after(line.substr(dash + 3));
    std::string id, parent, dev, root, mountpoint, fstype, source, super_options;
    if (!(before >> id >> parent >> dev >> root >> mountpoint) ||
        !(after >> fstype >> source >> super_options))
      continue;
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    mounts.push_back({unescape(root), unescape(mountpoint), fstype == "cgroup2", split(super_options, ',')});
  }
  return mounts;
}

// The directory of cgroup `path` (as /proc/self/cgroup gives it) in a mount of its hierarchy.
std::string directory_in(const CgroupMount& m, const std::string& path) {
  std::string rel = path;
  if (m.root != "/" && (path == m.root || path.rfind(m.root + "/", 0) == 0)) rel = path.substr(m.root.size());
  if (rel.empty() || rel == "/") return m.mountpoint;
  return m.mountpoint + rel;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The counter `key` of a "key value" lines file (memory.events, memory.oom_control).
std::uint64_t counter(const std::string& path, const std::string& key) {
  std::istringstream in(read_text(path));
  std::string k;
  std::uint64_t v = 0;
  while (in >> k >> v)
    if (k == key) return v;
  return 0;
}

// Kills what is left in a container cgroup, then removes it; a cgroup whose last tasks are still
// exiting is busy for a moment (usually well under a millisecond: poll fast, then slower, ~3 s).
void remove_cgroup(const std::string& dir) {
  int err = 0;
  for (int attempt = 0; attempt < 400; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    err = errno;
    if (err != EBUSY) break;
    if (!write_control_file(dir + "/cgroup.kill", "1")) {  // cgroup v1 (or a v2 kernel before 5.14)
      std::istringstream procs(read_text(dir + "/cgroup.procs"));
      for (pid_t pid; procs >> pid;) ::kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(attempt < 100 ? 200 : 10000));
  }
  log::warn("could not remove the cgroup %s: %s", dir.c_str(), std::strerror(err));
}

std::string controller_option(const std::string& controller) {
  if (controller == "memory") return "--memory";
  if (controller == "cpu") return "--cpus";
  return "--pids-limit";
}

// What to tell a user whose limit cannot be applied.
std::string delegation_hint() {
  if (::geteuid() == 0) return "";
  return "; without root this needs a delegated cgroup v2 subtree "
         "(systemd-run --user --scope -p Delegate=yes ./app ...; cgroup v1 has no delegation), "
         "or pass --cgroups best-effort to run without the limit";
}

}  // namespace

std::vector<std::string> controller_list(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

void remove_stale(const std::string& parent) {
  DIR* d = ::opendir(parent.c_str());
  if (!d) return;
  std::vector<std::string> stale;
  while (const dirent* e = ::readdir(d)) {
    // havre-<pid>: a container's cgroup; havre-runtime-<pid>: the leaf a runtime moved into.
    const std::string name = e->d_name;
    const std::string prefix = name.rfind("havre-runtime-", 0) == 0 ? "havre-runtime-" : "havre-";
    const std::string digits = name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : "";
    if (digits.empty() || digits.size() > 10 || digits.find_first_not_of("0123456789") != std::string::npos)
      continue;
    const pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (::kill(pid, 0) != 0 && errno == ESRCH) stale.push_back(parent + "/" + name);
  }
  ::closedir(d);
  for (const std::string& dir : stale)
    if (::rmdir(dir.c_str()) == 0) log::debug("removed the stale cgroup %s", dir.c_str());
}

Result<std::string> prepare_v2_parent(const std::string& parent, const std::vector<std::string>& controllers,
                                      pid_t self) {
  // cgroup v2's no-internal-processes rule: a child of a non-root cgroup that holds processes cannot
  // take any -- enabling a domain controller fails with EBUSY, and with only threaded ones (pids,
  // cpu) enabling succeeds but joining the child fails with EOPNOTSUPP. So look at the processes
  // first. The root cgroup (it has no cgroup.freeze) is exempt.
  std::string leaf;
  if (::access((parent + "/cgroup.freeze").c_str(), F_OK) == 0) {
    std::istringstream procs(read_text(parent + "/cgroup.procs"));
    std::vector<pid_t> pids;
    for (pid_t p; procs >> p;) pids.push_back(p);
    if (pids.size() == 1 && pids[0] == self) {
      // Alone in our cgroup (systemd-run --scope): into a leaf of our own, and the controllers go on.
      leaf = parent + "/havre-runtime-" + std::to_string(self);
      if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) return sys_error("mkdir " + leaf);
      if (auto moved = write_control_file(leaf + "/cgroup.procs", std::to_string(self)); !moved)
        return moved.error().wrap("move the runtime into a leaf cgroup");
    } else if (!pids.empty()) {
      return error("cgroup v2 allows resource limits only below a cgroup without processes, and " + parent +
                   " holds " + std::to_string(pids.size()) +
                   " processes; start ./app in a cgroup of its own "
                   "(systemd-run --scope -p Delegate=yes ./app ...)" + delegation_hint());
    }
  }
  const std::vector<std::string> enabled = controller_list(read_text(parent + "/cgroup.subtree_control"));
  for (const std::string& c : controllers) {
    if (contains(enabled, c)) continue;
    if (auto ok = write_control_file(parent + "/cgroup.subtree_control", "+" + c); !ok)
      return ok.error().wrap("enable the " + c + " controller");
  }
  return leaf;
}

Result<std::uint64_t> parse_memory_size(const std::string& text) {
  const ParsedSize size = parse_size(text, "bkmgt");
  if (size.too_large) return error("--memory " + text + ": too large");
  if (!size.bytes) return error("--memory " + text + ": expected a size such as 512m or 2g (units b, k, m, g, t)");
  const std::uint64_t bytes = *size.bytes;
  if (bytes < (6ULL << 20)) return error("--memory " + text + ": the minimum is 6m");
  return bytes;
}

std::string format_memory_size(std::uint64_t bytes) {
  for (auto [shift, unit] : {std::pair{40, 't'}, {30, 'g'}, {20, 'm'}, {10, 'k'}})
    if (bytes % (1ULL << shift) == 0) return std::to_string(bytes >> shift) + unit;
  return std::to_string(bytes);
}

Result<double> parse_cpus(const std::string& text, unsigned online_cpus) {
  char* end = nullptr;
  errno = 0;
  const double cpus = text.empty() ? 0 : std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !std::isfinite(cpus))
    return error("--cpus " + text + ": expected a number of CPUs such as 0.5 or 2");
  if (cpus < 0.01) return error("--cpus " + text + ": the minimum is 0.01");
  if (cpus > online_cpus)
    return error("--cpus " + text + ": this machine has " + std::to_string(online_cpus) + " CPUs");
  return cpus;
}

Result<std::uint64_t> parse_pids_limit(const std::string& text) {
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoull(text) == 0)
    return error("--pids-limit " + text + ": expected a positive number of processes");
  return std::stoull(text);
}

Result<std::vector<ControllerPlace>> locate_controllers(
    const std::vector<std::string>& wanted, std::string_view mountinfo, std::string_view proc_cgroup,
    const std::function<std::string(const std::string&)>& v2_controllers) {
  const std::vector<CgroupMount> mounts = cgroup_mounts(mountinfo);
  // /proc/self/cgroup: "ID:controller,list:/path" (v1) and "0::/path" (v2).
  std::map<std::string, std::string> v1_path;
  std::optional<std::string> v2_path;
  for (const std::string& line : split(proc_cgroup, '\n')) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string list = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (line.substr(0, a) == "0" && list.empty()) v2_path = path;
    for (const std::string& c : split(list, ',')) v1_path[c] = path;
  }
  std::vector<ControllerPlace> places;
  for (const std::string& c : wanted) {
    const CgroupMount* v1 = nullptr;
    const CgroupMount* v2 = nullptr;
    for (const CgroupMount& m : mounts) {
      if (!m.v2 && !v1 && contains(m.controllers, c)) v1 = &m;
      if (m.v2 && !v2) v2 = &m;
    }
    if (v1 && v1_path.count(c)) {
      places.push_back({c, directory_in(*v1, v1_path[c]), false});
    } else if (v2 && v2_path) {
      const std::string dir = directory_in(*v2, *v2_path);
      std::string available = v2_controllers(dir);
      while (!available.empty() && std::isspace(static_cast<unsigned char>(available.back())))
        available.pop_back();
      if (!contains(controller_list(available), c))
        return error(controller_option(c) + " needs the cgroup '" + c +
                     "' controller, which neither a cgroup v1 " +
                     "hierarchy nor the cgroup v2 tree offers here (" + dir + "/cgroup.controllers: '" +
                     available + "')" + delegation_hint());
      places.push_back({c, dir, true});
    } else {
      return error(controller_option(c) + " needs the cgroup '" + c + "' controller, and no cgroup " +
                   "filesystem with it is mounted (see /proc/self/mountinfo)");
    }
  }
  return places;
}

Status write_limits(const ControllerPlace& place, const ResourceLimits& limits) {
  const std::string& d = place.directory;
  if (place.controller == "memory" && limits.memory_bytes) {
    const std::string bytes = std::to_string(*limits.memory_bytes);
    if (place.v2) {
      if (auto ok = write_control_file(d + "/memory.max", bytes); !ok) return ok;
      // No swap beyond the limit: --memory bounds memory and swap together. ENOENT: no swap here.
      if (auto ok = write_control_file(d + "/memory.swap.max", "0"); !ok && ok.error().errnum != ENOENT)
        return ok;
    } else {
      if (auto ok = write_control_file(d + "/memory.limit_in_bytes", bytes); !ok) return ok;
      // ENOENT: the kernel does not account swap (swapaccount=0).
      if (auto ok = write_control_file(d + "/memory.memsw.limit_in_bytes", bytes);
          !ok && ok.error().errnum != ENOENT)
        return ok;
    }
  }
  if (place.controller == "cpu" && limits.cpus) {
    constexpr long kPeriod = 100000;  // microseconds, the kernel's and Docker's default period
    const long quota = std::lround(*limits.cpus * kPeriod);
    if (place.v2)
      return write_control_file(d + "/cpu.max", std::to_string(quota) + " " + std::to_string(kPeriod));
    if (auto ok = write_control_file(d + "/cpu.cfs_period_us", std::to_string(kPeriod)); !ok) return ok;
    return write_control_file(d + "/cpu.cfs_quota_us", std::to_string(quota));
  }
  if (place.controller == "pids" && limits.pids)
    return write_control_file(d + "/pids.max", std::to_string(*limits.pids));
  return {};
}

Result<Cgroup> Cgroup::create(const ResourceLimits& limits) {
  std::vector<std::string> wanted;
  if (limits.memory_bytes) wanted.push_back("memory");
  if (limits.cpus) wanted.push_back("cpu");
  if (limits.pids) wanted.push_back("pids");
  auto places =
      locate_controllers(wanted, read_text("/proc/self/mountinfo"), read_text("/proc/self/cgroup"),
                         [](const std::string& dir) { return read_text(dir + "/cgroup.controllers"); });
  if (!places) return places.error();

  Cgroup cg;  // owns every directory made below, also when a later step fails
  const std::string name = "havre-" + std::to_string(::getpid());
  std::map<std::string, std::vector<ControllerPlace>> by_parent;  // co-mounted v1 controllers share one
  for (const ControllerPlace& p : *places) by_parent[p.directory].push_back(p);
  for (const auto& [parent, group] : by_parent) {
    remove_stale(parent);
    if (group[0].v2) {
      std::vector<std::string> controllers;
      for (const ControllerPlace& p : group) controllers.push_back(p.controller);
      auto leaf = prepare_v2_parent(parent, controllers, ::getpid());
      if (!leaf) return leaf.error();
      if (!leaf->empty()) cg.leaf_ = *leaf;
    }
    const std::string dir = parent + "/" + name;
    if (::mkdir(dir.c_str(), 0755) != 0) {
      const int err = errno;
      return sys_error(err, "create the cgroup " + dir + " for " + controller_option(group[0].controller) +
                                (err == EACCES || err == EPERM || err == EROFS ? delegation_hint() : ""));
    }
    cg.dirs_.push_back({group[0].controller, dir, group[0].v2});
    for (ControllerPlace p : group) {
      p.directory = dir;
      if (auto ok = write_limits(p, limits); !ok) return ok.error().wrap(controller_option(p.controller));
      if (p.controller == "memory") cg.memory_ = p;
    }
    log::debug("cgroup %s (%s)", dir.c_str(), group[0].v2 ? "v2" : "v1");
  }
  return cg;
}

Cgroup::~Cgroup() {
  for (const ControllerPlace& p : dirs_) remove_cgroup(p.directory);
  if (leaf_.empty()) return;
  // The leaf we moved into: back to where we were and remove it, when nothing else of havre's uses
  // the parent now (a concurrent run's leaf is left to the stale sweep of a later run). The parent
  // must have no domain controllers enabled to take a process again; we enabled them, so off again.
  const std::string parent = leaf_.substr(0, leaf_.rfind('/'));
  DIR* d = ::opendir(parent.c_str());
  if (!d) return;
  int children = 0;
  while (const dirent* e = ::readdir(d))
    if (e->d_type == DT_DIR && e->d_name[0] != '.') ++children;
  ::closedir(d);
  if (children != 1) return;
  for (const std::string& c : controller_list(read_text(parent + "/cgroup.subtree_control")))
    (void)write_control_file(parent + "/cgroup.subtree_control", "-" + c);
  if (write_control_file(parent + "/cgroup.procs", std::to_string(::getpid())) && ::rmdir(leaf_.c_str()) == 0)
    log::debug("removed the leaf cgroup %s", leaf_.c_str());
}

Status Cgroup::join(pid_t pid) const {
  for (const ControllerPlace& p : dirs_)
    if (auto ok = write_control_file(p.directory + "/cgroup.procs", std::to_string(pid)); !ok)
      return ok.error().wrap("join the container's cgroup");
  return {};
}

std::uint64_t Cgroup::oom_kills() const {
  if (!memory_) return 0;
  return memory_->v2 ? counter(memory_->directory + "/memory.events", "oom_kill")
                     : counter(memory_->directory + "/memory.oom_control", "oom_kill");
}

}  // namespace havre::runtime
