// The content-addressed download cache: <dir>/sha256/<hex>. Files enter only after their digest is
// checked, via a temporary name and rename(2), so a reader never sees a partial file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace havre::pack {

struct CacheEntry {
  std::string path;
  std::string kind;  // "download" (sha256/<hex>), "debootstrap" (debootstrap/<inputs>.tar.zst) or
                     // "image" (images/<inputs>.sqfs, see image_cache.h)
  std::uint64_t size = 0;
  std::int64_t last_used = 0;  // seconds since the epoch (mtime, refreshed on every use)
};

class Cache {
 public:
  /// --cache-dir if given, else $XDG_CACHE_HOME/havre, else $HOME/.cache/havre.
  static Result<Cache> open(const std::string& dir_override);
  const std::string& dir() const { return dir_; }
  std::string path_for(const std::string& sha256_hex) const;
  /// The cached file for this digest, if present.
  std::optional<std::string> find(const std::string& sha256_hex) const;
  /// A fresh temporary file name inside the cache (same filesystem as the entries).
  Result<std::string> temp_path() const;
  /// Moves a verified temporary file into place under its digest.
  Status commit(const std::string& temp, const std::string& sha256_hex) const;
  /// Moves a finished temporary file to `path` inside the cache (readable by all, like every entry).
  Status commit_as(const std::string& temp, const std::string& path) const;
  /// Copies FILE into the cache under its sha256; returns the digest.
  Result<std::string> add(const std::string& file) const;
  /// Marks an entry as used now (what `prune` keeps longest).
  void touch(const std::string& path) const;
  /// Every entry, least recently used first.
  Result<std::vector<CacheEntry>> entries() const;
  /// Removes entries unused for longer than `max_age_days`, then the least recently used ones until
  /// the cache holds at most `max_bytes`, and abandoned temporary files. Returns what was removed.
  Result<std::vector<CacheEntry>> prune(std::uint64_t max_bytes, int max_age_days) const;

 private:
  explicit Cache(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace havre::pack
