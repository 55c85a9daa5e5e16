#include "container/dev.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "container/mount.h"

namespace havre::runtime {

Status mount_dev(const std::string& root, bool rootless) {
  const std::string dev = root + "/dev";
  if (auto ok = ensure_mountpoint(root, "/dev", false); !ok) return ok;
  // nodev: whatever the command mknods here cannot be opened; the baseline nodes below are binds of
  // the host's, which keep the flags of the host's /dev.
  if (auto ok = mount_fs("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=65536k"); !ok)
    return ok;

  for (const char* name : {"null", "zero", "full", "random", "urandom", "tty"}) {
    const std::string path = dev + "/" + name;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) return sys_error("create " + path);
    ::close(fd);
    if (auto ok = bind_mount(std::string("/dev/") + name, path, false); !ok) return ok;
  }
  static const std::pair<const char*, const char*> kLinks[] = {
      {"ptmx", "pts/ptmx"},          {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"},
      {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
  };
  for (const auto& [name, target] : kLinks) {
    const std::string path = dev + "/" + name;
    if (::symlink(target, path.c_str()) != 0) return sys_error("symlink " + path);
  }
  for (const char* dir : {"pts", "shm", "mqueue"}) {
    const std::string path = dev + "/" + dir;
    if (::mkdir(path.c_str(), 0755) != 0) return sys_error("mkdir " + path);
  }
  // gid=5 (tty) exists only where group 5 is mapped: not in a user namespace that maps just us.
  if (auto ok = mount_fs(
          "devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
          rootless ? "newinstance,ptmxmode=0666,mode=0620" : "newinstance,ptmxmode=0666,mode=0620,gid=5");
      !ok)
    return ok;
  if (auto ok =
          mount_fs("shm", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
      !ok)
    return ok;
  // mqueue shows the IPC namespace of the mounting process: ours, the new one.
  if (auto ok = mount_fs("mqueue", dev + "/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC); !ok)
    return ok;
  return {};
}

}  // namespace havre::runtime

namespace havre::runtime {

Status forbid_device_nodes(const std::string& target) {
  // mount_setattr(2) (Linux 5.12) sets nodev on the whole tree at once and leaves every other flag.
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_NODEV;
  if (::syscall(SYS_mount_setattr, AT_FDCWD, target.c_str(), AT_RECURSIVE, &attr, sizeof attr) == 0) return {};
  if (errno != ENOSYS) return sys_error("mount_setattr(MOUNT_ATTR_NODEV) " + target);
  // Older kernels: remount each mount of the tree, keeping the flags statvfs reports.
  std::ifstream info("/proc/self/mountinfo");
  std::string line;
  while (std::getline(info, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, fsroot, point;
    fields >> id >> parent >> devno >> fsroot >> point;
    for (size_t i = 0; (i = point.find('\\', i)) != std::string::npos && i + 3 < point.size(); ++i)
      point.replace(i, 4, 1, static_cast<char>(std::stoi(point.substr(i + 1, 3), nullptr, 8)));
    if (point != target && point.rfind(target + "/", 0) != 0) continue;
    auto kept = mount_flags_of(point);
    if (!kept) return kept.error();
    if (::mount(nullptr, point.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_NODEV | *kept, nullptr) != 0)
      return sys_error("remount nodev " + point);
  }
  return {};
}

}  // namespace havre::runtime
