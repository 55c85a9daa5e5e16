#include "container/mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace havre::runtime {

Status mount_fs(const std::string& source, const std::string& target, const std::string& fstype,
                unsigned long flags, const std::string& data) {
  if (::mount(source.c_str(), target.c_str(), fstype.empty() ? nullptr : fstype.c_str(), flags,
              data.empty() ? nullptr : data.c_str()) != 0)
    return sys_error("mount " + source + " on " + target + (fstype.empty() ? "" : " (" + fstype + ")"));
  return {};
}

unsigned long mount_flags_from_statvfs(unsigned long f_flag) {
  static const struct {
    unsigned long st, ms;
  } kFlags[] = {{ST_RDONLY, MS_RDONLY},   {ST_NOSUID, MS_NOSUID},         {ST_NODEV, MS_NODEV},
                {ST_NOEXEC, MS_NOEXEC},   {ST_NOATIME, MS_NOATIME},       {ST_NODIRATIME, MS_NODIRATIME},
                {ST_RELATIME, MS_RELATIME}, {ST_SYNCHRONOUS, MS_SYNCHRONOUS}, {ST_MANDLOCK, MS_MANDLOCK}};
  unsigned long flags = 0;
  for (const auto& f : kFlags)
    if (f_flag & f.st) flags |= f.ms;
  return flags;
}

Result<unsigned long> mount_flags_of(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return sys_error("statvfs " + path);
  return mount_flags_from_statvfs(st.f_flag);
}

Status bind_mount(const std::string& source, const std::string& target, bool read_only) {
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
    return sys_error("bind " + source + " on " + target);
  if (!read_only) return {};
  auto kept = mount_flags_of(target);  // the new bind carries the source's flags
  if (!kept) return kept.error();
  if (::mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | *kept,
              nullptr) != 0)
    return sys_error("remount " + target + " read-only");
  return {};
}

Status make_mounts_private() {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return sys_error("make / private (MS_REC|MS_PRIVATE)");
  return {};
}

bool is_symlink(const std::string& root, const std::string& rel) {
  struct stat st {};
  return ::lstat((root + rel).c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

Status ensure_mountpoint(const std::string& root, const std::string& rel, bool as_file) {
  std::string path = root;
  size_t i = 1;
  while (i <= rel.size()) {
    size_t j = rel.find('/', i);
    if (j == std::string::npos) j = rel.size();
    if (j == i) {
      ++i;
      continue;
    }
    path += "/" + rel.substr(i, j - i);
    const bool last = j == rel.size();
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      if (S_ISLNK(st.st_mode))
        return error("refusing to mount on " + rel + ": " + path.substr(root.size()) +
                     " is a symlink in the image");
      if (!last && !S_ISDIR(st.st_mode))
        return error("cannot mount on " + rel + ": " + path.substr(root.size()) + " is not a directory");
    } else if (errno != ENOENT) {
      return sys_error("stat " + path);
    } else if (last && as_file) {
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd < 0) return sys_error("create mount point " + path);
      ::close(fd);
    } else if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      return sys_error("create mount point " + path);
    }
    i = j + 1;
  }
  return {};
}

}  // namespace havre::runtime
