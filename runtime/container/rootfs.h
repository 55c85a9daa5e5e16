// The container's root filesystem: the image under a writable overlay, then the kernel filesystems,
// bind mounts and host network files on top, then pivot_root into it.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "container/spec.h"

namespace havre::runtime {

/// Host paths the container uses (volumes, the --persist directory, network files), opened (O_PATH)
/// before anything is mounted: the staging tmpfs may hide them (it covers /tmp), and the image must not
/// be able to redirect them. Mounted through /proc/self/fd/N.
struct HostRefs {
  std::vector<UniqueFd> binds;  // one per ContainerOptions::binds entry
  UniqueFd persist;
  UniqueFd resolv_conf, hosts;  // absent when the host has none
  UniqueFd directory_root;      // the host directory used as the root, if any
  UniqueFd extracted_image;     // the image, extracted (rootless without FUSE), if any
};
Result<HostRefs> open_host_refs(const ContainerSpec& spec);

/// Mounts a private tmpfs to stage in (over an existing host directory, visible only in this mount
/// namespace) and returns its path.
Result<std::string> mount_staging_area();

/// Mounts the image and, over it, the writable layer (tmpfs, or --persist DIR; none with --read-only).
/// Returns the directory that becomes "/".
Result<std::string> mount_root(const ContainerSpec& spec, const HostRefs& host, const std::string& stage);

/// Binds a host directory read-write as the root (havre-pack's build steps work on the staged tree).
Result<std::string> mount_directory_root(const HostRefs& host, const std::string& stage);

/// /proc (new instance), /sys read-only, /tmp tmpfs. /dev comes from dev.h. In a user namespace
/// (`rootless`) /sys is the host's, bound read-only: sysfs needs a network namespace of our own.
Status mount_kernel_filesystems(const std::string& root, bool rootless);

/// How far mount_network_files may change the root to make room for the host's files.
enum class NetworkFiles {
  kKeepImage,       // read-only root: bind only over files the image has (never over a symlink)
  kCreate,          // staged tree (build steps): also create missing files; leave symlinks alone
  kReplaceSymlinks  // writable overlay: also replace a symlink (it is replaced in the upper layer only)
};
/// Masked paths (/proc/kcore, /proc/keys, /sys/firmware, ...: our /dev/null over files, an empty
/// read-only tmpfs over directories) and read-only paths (/proc/sys, /proc/sysrq-trigger, /proc/irq,
/// /proc/bus, /proc/fs), as runc and Docker do. After /proc, /sys and /dev are mounted.
Status mask_kernel_paths(const std::string& root);

/// Host /etc/resolv.conf and /etc/hosts, read-only, in host-network mode.
Status mount_network_files(const std::string& root, const HostRefs& host, NetworkFiles mode);

/// -v HOST:CTR[:ro]
Status mount_binds(const std::string& root, const ContainerSpec& spec, const HostRefs& host);

/// pivot_root(2) into `root` and detach the old root: after this, the host's tree is unreachable.
Status pivot_into(const std::string& root);

}  // namespace havre::runtime
