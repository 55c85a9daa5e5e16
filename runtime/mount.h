// mount(2) wrappers with errors that name source, target and type; and mount-point creation that never
// follows a symlink planted by the image.
#pragma once

#include <string>

#include "base/error.h"

namespace havre::runtime {

Status mount_fs(const std::string& source, const std::string& target, const std::string& fstype,
                unsigned long flags, const std::string& data = "");
/// Bind-mounts source on target (recursively); read_only remounts the bind read-only.
Status bind_mount(const std::string& source, const std::string& target, bool read_only);
/// Makes every mount in this (new) mount namespace private, so nothing we mount reaches the host.
Status make_mounts_private();

/// Makes sure `root` + `rel` (rel absolute inside the root) exists as a directory (or, with
/// as_file, an empty regular file), creating missing components. A symlink on the way is refused:
/// the image must not redirect a mount outside the container's root.
Status ensure_mountpoint(const std::string& root, const std::string& rel, bool as_file);

/// True if root + rel exists and is a symlink (lstat; the final component is not followed).
bool is_symlink(const std::string& root, const std::string& rel);

}  // namespace havre::runtime
