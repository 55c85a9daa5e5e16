#include "dev.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mount.h"

namespace havre::runtime {

Status mount_dev(const std::string& root, bool rootless) {
  const std::string dev = root + "/dev";
  if (auto ok = ensure_mountpoint(root, "/dev", false); !ok) return ok;
  if (auto ok = mount_fs("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=65536k"); !ok)
    return ok;

  struct Node {
    const char* name;
    unsigned major, minor;
  };
  static const Node kNodes[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                                {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  for (const Node& n : kNodes) {
    const std::string path = dev + "/" + n.name;
    if (rootless) {
      const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd < 0) return sys_error("create " + path);
      ::close(fd);
      if (auto ok = bind_mount(std::string("/dev/") + n.name, path, false); !ok) return ok;
      continue;
    }
    if (::mknod(path.c_str(), S_IFCHR | 0666, makedev(n.major, n.minor)) != 0)
      return sys_error("mknod " + path);
    ::chmod(path.c_str(), 0666);  // independent of the umask
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
