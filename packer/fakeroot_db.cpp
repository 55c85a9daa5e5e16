#include "fakeroot_db.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "base/unique_fd.h"
#include "process.h"


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
                  "dev=%" PRIx64 ",ino=%" PRIu64 ",mode=%o,uid=%u,gid=%u,nlink=%" PRIu64 ",rdev=%" PRIu64
                  "\n",
                  static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino), a.mode, a.uid,
                  a.gid, static_cast<std::uint64_t>(st.st_nlink),
                  static_cast<std::uint64_t>(makedev(a.rdev_major, a.rdev_minor)));
    lines[{st.st_dev, st.st_ino}] = line;
  }
  std::string out;
  for (const auto& [key, line] : lines) out += line;
  return out;
}

Result<FakedDaemon> FakedDaemon::start(const std::string& db_path) {
  auto db = open_fd(db_path, O_RDONLY);
  if (!db) return db.error();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return sys_error("pipe for faked-sysv");
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  // In the foreground, as our child: it dies with havre-pack even after kill -9, and SIGTERM (not
  // SIGKILL) lets it remove its SysV message queues.
  SpawnSpec spec;
  spec.argv = {"faked-sysv", "--foreground", "--load"};
  spec.stdin_fd = db->get();
  spec.stdout_fd = write_end.get();
  spec.death_signal = SIGTERM;
  auto pid = spawn(spec);
  if (!pid) return pid.error().wrap("install the fakeroot package");
  FakedDaemon daemon(*pid, "");
  write_end.reset();
  // It prints "KEY:PID" once it listens, and keeps running.
  std::string line;
  char c;
  ssize_t n;
  while (line.size() < 128 && ((n = ::read(read_end.get(), &c, 1)) == 1 || (n < 0 && errno == EINTR)))
    if (n == 1 && c != '\n') line += c;
    else if (n == 1) break;
  const size_t colon = line.find(':');
  if (colon == std::string::npos || colon == 0) return error("faked-sysv did not start (output: '" + line + "')");
  daemon.key_ = line.substr(0, colon);
  return daemon;
}

FakedDaemon::~FakedDaemon() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);  // it removes its message queues on SIGTERM
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

std::vector<std::string> FakedDaemon::environment() const {
  return {"FAKEROOTKEY=" + key_, "FAKED_MODE=unknown-is-root", "LD_PRELOAD=libfakeroot-sysv.so",
          // Where Debian puts libfakeroot (multiarch first), as the fakeroot script searches.
          "LD_LIBRARY_PATH=/usr/lib/" HAVRE_MULTIARCH
          "/libfakeroot:/usr/lib64/libfakeroot:/usr/lib/libfakeroot"};
}

}  // namespace havre::pack
