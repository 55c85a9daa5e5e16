#include "fakeroot_db.h"

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "base/unique_fd.h"

extern char** environ;

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
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, db->get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  char* argv[] = {const_cast<char*>("faked-sysv"), const_cast<char*>("--load"), nullptr};
  pid_t launcher = -1;
  const int rc = ::posix_spawnp(&launcher, "faked-sysv", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return sys_error(rc, "run faked-sysv (install the fakeroot package)");
  write_end.reset();
  // It forks into the background and the foreground process prints "KEY:PID", then exits.
  std::string line;
  char buf[128];
  ssize_t n;
  while ((n = ::read(read_end.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) line.append(buf, static_cast<size_t>(n));
  int status = 0;
  while (::waitpid(launcher, &status, 0) < 0 && errno == EINTR) {
  }
  const size_t colon = line.find(':');
  if (colon == std::string::npos || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return error("faked-sysv did not start (output: '" + line + "')");
  const pid_t pid = static_cast<pid_t>(std::strtol(line.c_str() + colon + 1, nullptr, 10));
  if (pid <= 0) return error("faked-sysv printed no pid (output: '" + line + "')");
  return FakedDaemon(pid, line.substr(0, colon));
}

FakedDaemon::~FakedDaemon() {
  if (pid_ > 0) ::kill(pid_, SIGTERM);  // it removes its message queues on SIGTERM
}

std::vector<std::string> FakedDaemon::environment() const {
  return {"FAKEROOTKEY=" + key_, "FAKED_MODE=unknown-is-root", "LD_PRELOAD=libfakeroot-sysv.so",
          // Where Debian puts libfakeroot (multiarch first), as the fakeroot script searches.
          "LD_LIBRARY_PATH=/usr/lib/" HAVRE_MULTIARCH
          "/libfakeroot:/usr/lib64/libfakeroot:/usr/lib/libfakeroot"};
}

}  // namespace havre::pack
