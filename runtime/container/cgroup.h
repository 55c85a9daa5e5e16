// Control groups: --memory, --cpus and --pids-limit. Each controller is used where this host mounts
// it -- a cgroup v1 hierarchy or the v2 unified tree -- so v1, v2 and hybrid layouts (v1 controllers
// plus a v2 "unified" mount) all work. The container's cgroup is created under the caller's own
// cgroup in every hierarchy it needs, so the caller's limits still hold. No limits, no cgroup work.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace havre::runtime {

struct ResourceLimits {
  std::optional<std::uint64_t> memory_bytes;  // --memory: memory and swap together
  std::optional<double> cpus;                 // --cpus: CPU time per wall second (fractional)
  std::optional<std::uint64_t> pids;          // --pids-limit: tasks in the container, init included
  bool best_effort = false;                   // --cgroups best-effort: a limit that cannot be set warns
  bool any() const { return memory_bytes || cpus || pids; }
};

/// "64m", "1G", "512k", "1048576" (binary units, as Docker); at least 6 MiB.
Result<std::uint64_t> parse_memory_size(const std::string& text);
/// The inverse of parse_memory_size: "64m" for 64 MiB.
std::string format_memory_size(std::uint64_t bytes);
/// "0.5", "2": more than 0.01, at most the number of online CPUs.
Result<double> parse_cpus(const std::string& text, unsigned online_cpus);
/// A positive count.
Result<std::uint64_t> parse_pids_limit(const std::string& text);

/// Where one controller lives for this process: the directory of its current cgroup.
struct ControllerPlace {
  std::string controller;  // "memory", "cpu", "pids"
  std::string directory;   // e.g. /sys/fs/cgroup/memory/user.slice (v1) or /sys/fs/cgroup/user.slice (v2)
  bool v2 = false;
};

/// Finds each wanted controller from /proc/self/mountinfo and /proc/self/cgroup (their texts, so
/// that tests can feed other layouts). `v2_controllers(dir)` returns the cgroup.controllers of a v2
/// directory. A controller mounted nowhere is an error naming it.
Result<std::vector<ControllerPlace>> locate_controllers(
    const std::vector<std::string>& wanted, std::string_view mountinfo, std::string_view proc_cgroup,
    const std::function<std::string(const std::string&)>& v2_controllers);

/// The container's cgroup, one directory per hierarchy it needs; owns them: the destructor kills
/// what is left inside and removes them.
class Cgroup {
 public:
  /// Creates havre-<pid> under the caller's cgroup in each hierarchy and writes the limits. Empty
  /// directories left by runtimes that were killed (their pid is gone) are removed first.
  static Result<Cgroup> create(const ResourceLimits& limits);
  Cgroup(Cgroup&& other) noexcept
      : dirs_(std::move(other.dirs_)), memory_(std::move(other.memory_)), leaf_(std::move(other.leaf_)) {
    other.dirs_.clear();
    other.leaf_.clear();
  }
  Cgroup& operator=(Cgroup&&) = delete;
  ~Cgroup();

  /// Moves `pid` (the container's init, before it starts the command) into every directory.
  Status join(pid_t pid) const;
  /// How many processes the kernel's OOM killer ended in the memory cgroup (0 without --memory).
  std::uint64_t oom_kills() const;

 private:
  Cgroup() = default;
  std::vector<ControllerPlace> dirs_;  // one per hierarchy; directory = the container's cgroup
  std::optional<ControllerPlace> memory_;
  std::string leaf_;  // cgroup v2: the havre-runtime-<pid> leaf this runtime moved into, if it did
};

/// The controller names of a cgroup.controllers or cgroup.subtree_control text ("cpu pids\n").
std::vector<std::string> controller_list(std::string_view text);

/// Gets a cgroup v2 `parent` ready for a child cgroup with `controllers` (cgroup v2's
/// no-internal-processes rule): a non-root parent that holds only `self` moves it into a leaf
/// havre-runtime-<self> (returned; "" when none was needed); one that holds other processes is an
/// error saying how to start ./app in a cgroup of its own. Then enables the controllers not yet
/// enabled. Takes the directory, so tests run it on a fake tree.
Result<std::string> prepare_v2_parent(const std::string& parent, const std::vector<std::string>& controllers,
                                      pid_t self);

/// Removes the empty havre-<pid> (container) and havre-runtime-<pid> (leaf) cgroups below `parent`
/// of runtimes whose pid is gone (killed with SIGKILL, say).
void remove_stale(const std::string& parent);

/// Writes the limits into a created container cgroup directory (split out for tests on a fake tree).
Status write_limits(const ControllerPlace& place, const ResourceLimits& limits);

}  // namespace havre::runtime
