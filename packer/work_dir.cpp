#include "work_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "base/io.h"
#include "base/log.h"
#include "base/unique_fd.h"

namespace havre::pack {
namespace {

constexpr const char* kOwnerFile = "owner";
constexpr const char* kMarker = ".havre-";

std::string read_small_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// "PID START BOOT": START is field 22 of /proc/PID/stat (clock ticks after boot); "" when the
// process does not exist.
std::string owner_record(pid_t pid) {
  const std::string stat = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return "";
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  for (int i = 3; i <= 22 && (fields >> field); ++i) {
  }
  std::string boot = read_small_file("/proc/sys/kernel/random/boot_id");
  while (!boot.empty() && boot.back() == '\n') boot.pop_back();
  return std::to_string(pid) + " " + field + " " + boot;
}

// `.NAME.havre-XXXXXX`, as make_work_dir names them.
bool is_work_dir_name(const std::string& name) {
  const size_t at = name.rfind(kMarker);
  return name.size() > 1 && name[0] == '.' && at != std::string::npos && at > 0 &&
         name.size() == at + std::string(kMarker).size() + 6;
}

}  // namespace

Result<TempDir> make_work_dir(const std::string& parent, const std::string& prefix) {
  auto dir = TempDir::make(parent, prefix);
  if (!dir) return dir;
  const std::string path = dir->path() + "/" + kOwnerFile;
  const std::string record = owner_record(::getpid()) + "\n";
  auto fd = open_fd(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (!fd) return fd.error();
  if (auto ok = write_all(fd->get(), std::as_bytes(std::span(record)), path); !ok) return ok.error();
  return dir;
}

void remove_stale_work_dirs(const std::string& parent) {
  DIR* d = ::opendir(parent.c_str());
  if (!d) return;
  std::vector<std::string> stale;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (!is_work_dir_name(name)) continue;
    const std::string dir = parent + "/" + name;
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) continue;
    std::string record = read_small_file(dir + "/" + kOwnerFile);
    while (!record.empty() && record.back() == '\n') record.pop_back();
    if (record.empty()) continue;  // not ours to judge (an older havre-pack, or one just starting)
    const pid_t pid = static_cast<pid_t>(std::strtol(record.c_str(), nullptr, 10));
    if (pid <= 0 || owner_record(pid) == record) continue;  // its build is still running
    stale.push_back(dir);
  }
  ::closedir(d);
  for (const std::string& dir : stale) {
    log::info("removing %s, left by a build that did not finish", dir.c_str());
    remove_tree(dir);
  }
}

}  // namespace havre::pack
