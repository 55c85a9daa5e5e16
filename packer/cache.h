// The content-addressed download cache: <dir>/sha256/<hex>. Files enter only after their digest is
// checked, via a temporary name and rename(2), so a reader never sees a partial file.
#pragma once

#include <optional>
#include <string>

#include "base/error.h"

namespace havre::pack {

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
  /// Copies FILE into the cache under its sha256; returns the digest.
  Result<std::string> add(const std::string& file) const;

 private:
  explicit Cache(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace havre::pack
