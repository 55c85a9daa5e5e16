#include "fakeroot_db.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cinttypes>
#include <cstdio>

namespace havre::pack {

Result<std::string> FakerootDb::render(const std::string& root) const {
  // Hard links share an inode and so a line; the last name's attributes win, as with `tar -x`.
  std::map<std::pair<dev_t, ino_t>, std::string> lines;
  for (const auto& [path, a] : nodes_) {
    const std::string full = path.empty() ? root : root + "/" + path;
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0) return sys_error("stat " + full);
    char line[256];
    std::snprintf(line, sizeof line,
                  "dev=%" PRIx64 ",ino=%" PRIu64 ",mode=%o,uid=%u,gid=%u,nlink=%" PRIu64 ",rdev=%" PRIu64 "\n",
                  static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino), a.mode,
                  a.uid, a.gid, static_cast<std::uint64_t>(st.st_nlink),
                  static_cast<std::uint64_t>(makedev(a.rdev_major, a.rdev_minor)));
    lines[{st.st_dev, st.st_ino}] = line;
  }
  std::string out;
  for (const auto& [key, line] : lines) out += line;
  return out;
}

}  // namespace havre::pack
