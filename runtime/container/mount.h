// mount(2) wrappers with errors that name source, target and type; and mount-point creation that never
// follows a symlink planted by the image.
#pragma once

#include <string>

#include "base/error.h"

namespace havre::runtime {

Status mount_fs(const std::string& source, const std::string& target, const std::string& fstype,
                unsigned long flags, const std::string& data = "");
/// The flags of the mount at `path` that a remount must keep (statvfs): MS_RDONLY, MS_NOSUID,
/// MS_NODEV, MS_NOEXEC and the atime bits. In a user namespace the kernel locks them on every mount
/// copied from the host (systemd mounts /sys, /proc, /dev, /run, /tmp nosuid/nodev/noexec), and a
/// remount that would clear one fails with EPERM -- as crun's do_remount and nsjail's
/// computeRemountFlags, a remount starts from these.
Result<unsigned long> mount_flags_of(const std::string& path);
/// The MS_* bits for statvfs's f_flag (ST_*): pure, for mount_flags_of and its tests.
unsigned long mount_flags_from_statvfs(unsigned long f_flag);

/// Bind-mounts source on target (recursively); read_only remounts the bind read-only, keeping
/// every flag the source had and adding nosuid and nodev.
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
