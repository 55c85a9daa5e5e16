// Ownership, exact modes, setuid bits and device nodes for an unprivileged build.
//
// An unprivileged havre-pack cannot chown files or create device nodes, and mksquashfs 4.5's pseudo
// definitions cannot modify a directory that has modified children. So the archive's attributes are
// written as a fakeroot state file keyed by the staged files' (device, inode), and mksquashfs runs under
// `fakeroot -i DB`: its stat() calls then see exactly what the archive said. Device nodes and fifos
// are staged as empty regular files whose faked mode and rdev make them nodes again.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"

namespace havre::pack {

struct NodeAttrs {
  std::uint32_t mode = 040755;  // full st_mode: file type and permission bits (incl. setuid/sticky)
  std::uint32_t uid = 0, gid = 0;
  std::uint32_t rdev_major = 0, rdev_minor = 0;
};

class FakerootDb {
 public:
  /// Records the attributes for a path relative to the staged root ("" is the root itself).
  void set(const std::string& path, const NodeAttrs& attrs) { nodes_[path] = attrs; }
  bool contains(const std::string& path) const { return nodes_.count(path) != 0; }
  const NodeAttrs* find(const std::string& path) const {
    auto it = nodes_.find(path);
    return it == nodes_.end() ? nullptr : &it->second;
  }
  bool empty() const { return nodes_.empty(); }
  /// lstat()s every recorded path under `root` and renders fakeroot's save format, one line per inode.
  Result<std::string> render(const std::string& root) const;

 private:
  std::map<std::string, NodeAttrs> nodes_;
};

/// fakeroot's daemon (faked-sysv), loaded with a state file and owned by us: stopped on every exit
/// path. (The `fakeroot` wrapper script would leave it running when its child is interrupted.)
class FakedDaemon {
 public:
  static Result<FakedDaemon> start(const std::string& db_path);
  FakedDaemon(FakedDaemon&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), key_(std::move(other.key_)) {}
  FakedDaemon(const FakedDaemon&) = delete;
  ~FakedDaemon();
  /// What a process needs in its environment to see the faked attributes.
  std::vector<std::string> environment() const;

 private:
  FakedDaemon(pid_t pid, std::string key) : pid_(pid), key_(std::move(key)) {}
  pid_t pid_ = -1;
  std::string key_;
};

}  // namespace havre::pack
