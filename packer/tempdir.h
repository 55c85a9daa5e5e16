// A directory removed with everything in it when its owner goes away.
#pragma once

#include <string>

#include "base/error.h"

namespace havre::pack {

class TempDir {
 public:
  /// Creates `<parent>/<prefix>XXXXXX` (mode 0700).
  static Result<TempDir> make(const std::string& parent, const std::string& prefix);
  TempDir(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

/// Removes a tree, making directories writable first (an extracted rootfs may hold 0555 dirs).
void remove_tree(const std::string& path);

}  // namespace havre::pack
