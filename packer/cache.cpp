#include "cache.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "base/io.h"
#include "base/sha256.h"
#include "base/unique_fd.h"
#include "tarball.h"

namespace havre::pack {

namespace fs = std::filesystem;

Result<Cache> Cache::open(const std::string& dir_override) {
  std::string dir = dir_override;
  if (dir.empty()) {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    const char* home = std::getenv("HOME");
    if (xdg && *xdg) dir = std::string(xdg) + "/havre";
    else if (home && *home) dir = std::string(home) + "/.cache/havre";
    else return error("no cache directory: set XDG_CACHE_HOME or HOME, or pass --cache-dir");
  }
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "sha256", ec);
  if (ec) return sys_error(ec.value(), "create cache directory " + dir);
  fs::create_directories(fs::path(dir) / "tmp", ec);
  if (ec) return sys_error(ec.value(), "create cache directory " + dir + "/tmp");
  return Cache(fs::absolute(dir).string());
}

std::string Cache::path_for(const std::string& hex) const { return dir_ + "/sha256/" + hex; }

std::optional<std::string> Cache::find(const std::string& hex) const {
  std::string p = path_for(hex);
  struct stat st {};
  if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return p;
  return std::nullopt;
}

Result<std::string> Cache::temp_path() const {
  std::string templ = dir_ + "/tmp/download-XXXXXX";
  int fd = ::mkstemp(templ.data());
  if (fd < 0) return sys_error("create temporary file in " + dir_ + "/tmp");
  ::close(fd);
  return templ;
}

Status Cache::commit(const std::string& temp, const std::string& hex) const {
  const std::string dst = path_for(hex);
  if (::chmod(temp.c_str(), 0644) != 0) return sys_error("chmod " + temp);
  if (::rename(temp.c_str(), dst.c_str()) != 0) return sys_error("rename " + temp + " to " + dst);
  return {};
}

Result<std::string> Cache::add(const std::string& file) const {
  auto digest = verify_sha256(file, "");
  if (!digest) return digest.error();
  const std::string hex = to_hex(*digest);
  if (find(hex)) return hex;
  auto temp = temp_path();
  if (!temp) return temp.error();
  std::error_code ec;
  fs::copy_file(file, *temp, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    ::unlink(temp->c_str());
    return sys_error(ec.value(), "copy " + file + " to " + *temp);
  }
  // Check what landed, not what we read a moment ago.
  if (auto again = verify_sha256(*temp, hex); !again) {
    ::unlink(temp->c_str());
    return again.error().wrap("file changed while being added to the cache");
  }
  if (auto ok = commit(*temp, hex); !ok) {
    ::unlink(temp->c_str());
    return ok.error();
  }
  return hex;
}

}  // namespace havre::pack
