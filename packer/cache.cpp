#include "cache.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>

#include "base/cache_dir.h"
#include "base/io.h"
#include "base/sha256.h"
#include "base/unique_fd.h"
#include "image_cache.h"
#include "tarball.h"

namespace havre::pack {

namespace fs = std::filesystem;

Result<Cache> Cache::open(const std::string& dir_override) {
  std::string dir = dir_override;
  if (dir.empty()) {
    const std::optional<std::string> found = default_cache_dir();
    if (!found) return error("no cache directory: set XDG_CACHE_HOME or HOME, or pass --cache-dir");
    dir = *found;
  }
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "sha256", ec);
  if (ec) return sys_error(ec.value(), "create cache directory " + dir);
  fs::create_directories(fs::path(dir) / "tmp", ec);
  if (ec) return sys_error(ec.value(), "create cache directory " + dir + "/tmp");
  const fs::path absolute = fs::absolute(dir, ec);
  if (ec) return sys_error(ec.value(), "resolve cache directory " + dir);
  return Cache(absolute.string());
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
  return commit_as(temp, path_for(hex));
}

Status Cache::commit_as(const std::string& temp, const std::string& dst) const {
  if (::chmod(temp.c_str(), 0644) != 0) return sys_error("chmod " + temp);
  if (::rename(temp.c_str(), dst.c_str()) != 0) return sys_error("rename " + temp + " to " + dst);
  return {};
}

Result<std::string> Cache::add(const std::string& file) const {
  auto digest = verify_sha256(file, "");
  if (!digest) return digest.error();
  const std::string hex = to_hex(*digest);
  if (auto existing = find(hex)) {
    touch(*existing);
    return hex;
  }
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

void Cache::touch(const std::string& path) const { ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0); }

Result<std::vector<CacheEntry>> Cache::entries() const {
  std::vector<CacheEntry> out;
  for (const auto& [sub, kind] :
       {std::pair{"sha256", "download"}, {"debootstrap", "debootstrap"}, {"images", "image"}}) {
    const fs::path dir = fs::path(dir_) / sub;
    std::error_code ec;
    if (!fs::exists(dir, ec)) continue;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const fs::directory_entry& e = *it;
      struct stat st {};
      if (::lstat(e.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      if (e.path().extension() == ".sha256") continue;  // an image's record (image_cache.h), not an entry
      out.push_back({e.path().string(), kind, static_cast<std::uint64_t>(st.st_size), st.st_mtime});
    }
    if (ec) return sys_error(ec.value(), "list " + dir.string());
  }
  std::sort(out.begin(), out.end(), [](const CacheEntry& a, const CacheEntry& b) {
    return a.last_used != b.last_used ? a.last_used < b.last_used : a.path < b.path;
  });
  return out;
}

Result<std::vector<CacheEntry>> Cache::prune(std::uint64_t max_bytes, int max_age_days) const {
  auto all = entries();
  if (!all) return all.error();
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  std::uint64_t total = 0;
  for (const CacheEntry& e : *all) total += e.size;
  std::vector<CacheEntry> removed;
  for (const CacheEntry& e : *all) {  // oldest first
    const bool too_old = now - e.last_used > std::int64_t{max_age_days} * 86400;
    if (!too_old && total <= max_bytes) break;
    if (::unlink(e.path.c_str()) != 0) return sys_error("remove " + e.path);
    if (e.kind == "image") ::unlink(image_digest_path(e.path).c_str());
    total -= e.size;
    removed.push_back(e);
  }
  // Temporary files of downloads that were killed (a live one is younger than a day).
  std::error_code ec;
  for (auto it = fs::directory_iterator(fs::path(dir_) / "tmp", ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const fs::directory_entry& e = *it;
    struct stat st {};
    if (::lstat(e.path().c_str(), &st) == 0 && now - st.st_mtime > 86400) {
      if (::unlink(e.path().c_str()) == 0)
        removed.push_back(
            {e.path().string(), "temporary", static_cast<std::uint64_t>(st.st_size), st.st_mtime});
    }
  }
  return removed;
}

}  // namespace havre::pack
