#include "container/rootfs.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "container/dev.h"
#include "image/image.h"
#include "container/mount.h"

namespace havre::runtime {
namespace {

namespace fs = std::filesystem;

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

Status mkdir_all(const std::string& path, mode_t mode) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return sys_error(ec.value(), "mkdir " + path);
  ::chmod(path.c_str(), mode);
  return {};
}

std::string fd_path(const UniqueFd& fd) { return "/proc/self/fd/" + std::to_string(fd.get()); }

}  // namespace

Result<HostRefs> open_host_refs(const ContainerSpec& spec) {
  const ContainerOptions& opts = spec.opts;
  const std::string& directory_root = spec.directory;
  HostRefs refs;
  if (!directory_root.empty()) {
    auto fd = open_fd(directory_root, O_PATH | O_DIRECTORY);
    if (!fd) return fd.error().wrap("root directory");
    refs.directory_root = std::move(*fd);
  }
  for (const Bind& b : opts.binds) {
    auto fd = open_fd(b.source, O_PATH);
    if (!fd) return fd.error().wrap("-v");
    refs.binds.push_back(std::move(*fd));
  }
  if (spec.backend == ImageBackend::kExtracted) {
    auto fd = open_fd(spec.extracted_root, O_PATH | O_DIRECTORY);
    if (!fd) return fd.error().wrap("extracted image");
    refs.extracted_image = std::move(*fd);
  }
  if (!opts.persist_dir.empty()) {
    auto fd = open_fd(opts.persist_dir, O_PATH | O_DIRECTORY);
    if (!fd) return fd.error().wrap("--persist");
    refs.persist = std::move(*fd);
  }
  if (!opts.net_none) {
    if (auto fd = open_fd("/etc/resolv.conf", O_PATH)) refs.resolv_conf = std::move(*fd);
    if (auto fd = open_fd("/etc/hosts", O_PATH)) refs.hosts = std::move(*fd);
  }
  return refs;
}

Result<std::string> mount_staging_area() {
  // Any existing directory will do: the tmpfs hides it only inside our private mount namespace, and
  // nothing is ever created on the host -- so a killed runtime leaves no temp dir behind.
  for (const char* dir : {"/tmp", "/run", "/mnt", "/var/tmp"}) {
    struct stat st {};
    if (::lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (auto ok = mount_fs("havre", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700"); !ok) return ok.error();
    return std::string(dir);
  }
  return error("no directory to stage the container in (tried /tmp, /run, /mnt, /var/tmp)");
}

Result<std::string> mount_root(const ContainerSpec& spec, const HostRefs& host, const std::string& stage) {
  const ContainerOptions& opts = spec.opts;
  const std::string root = stage + "/root";
  for (const std::string& dir : {stage + "/image", root})
    if (::mkdir(dir.c_str(), 0755) != 0) return sys_error("mkdir " + dir);
  // The extracted tree stays read-only below the overlay (or bound read-only).
  auto mounted = mount_image(*spec.image, spec.backend, stage + "/image",
                             host.extracted_image.valid() ? fd_path(host.extracted_image) : "");
  if (!mounted) return mounted.error().wrap("mounting the image");
  const std::string lower = *mounted;

  if (opts.read_only) {
    // No writable layer: the image itself is the root (a bind, so it is a mount point of its own).
    if (auto ok = bind_mount(lower, root, host.extracted_image.valid()); !ok) return ok.error();
    return root;
  }
  std::string upper = stage + "/rw/upper", work = stage + "/rw/work";
  if (host.persist.valid()) {
    upper = fd_path(host.persist) + "/upper";
    work = fd_path(host.persist) + "/work";
  }
  for (const std::string& dir : {upper, work})
    if (auto ok = mkdir_all(dir, 0755); !ok) return ok.error().wrap("writable layer");
  const std::string data = "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work;
  // nodev: nodes the command creates (it keeps CAP_MKNOD) or that the image holds cannot be opened.
  if (auto ok = mount_fs("overlay", root, "overlay", MS_NODEV, data); !ok) {
    if (!opts.persist_dir.empty())
      return ok.error().wrap("--persist " + opts.persist_dir +
                             " (in use by another run, or on a filesystem overlayfs cannot write to?)");
    return ok.error();
  }
  return root;
}

Result<std::string> mount_directory_root(const HostRefs& host, const std::string& stage) {
  const std::string root = stage + "/root";
  if (::mkdir(root.c_str(), 0755) != 0) return sys_error("mkdir " + root);
  if (auto ok = bind_mount(fd_path(host.directory_root), root, false); !ok) return ok.error();
  if (auto ok = forbid_device_nodes(root); !ok) return ok.error();
  return root;
}

Status mount_kernel_filesystems(const std::string& root, bool rootless) {
  struct Fs {
    const char* target;
    const char* type;
    unsigned long flags;
    const char* data;
  };
  static const Fs kFilesystems[] = {
      // A new proc instance: it shows the new PID namespace only.
      {"/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""},
      {"/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, ""},
      {"/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
  };
  for (const Fs& f : kFilesystems) {
    if (auto ok = ensure_mountpoint(root, f.target, false); !ok) return ok;
    if (rootless && std::string(f.type) == "sysfs") {
      if (auto ok = bind_mount("/sys", root + f.target, true); !ok) return ok;
      continue;
    }
    if (auto ok = mount_fs(f.type, root + f.target, f.type, f.flags, f.data); !ok) return ok;
  }
  return {};
}

Status mask_kernel_paths(const std::string& root) {
  static const char* const kMasked[] = {"/proc/acpi",
                                        "/proc/asound",
                                        "/proc/kcore",
                                        "/proc/keys",
                                        "/proc/latency_stats",
                                        "/proc/timer_list",
                                        "/proc/timer_stats",
                                        "/proc/sched_debug",
                                        "/proc/scsi",
                                        "/sys/firmware",
                                        "/sys/devices/virtual/powercap"};
  static const char* const kReadOnly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                          "/proc/sysrq-trigger"};
  for (const char* rel : kMasked) {
    const std::string path = root + rel;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;  // not on this kernel
    if (S_ISDIR(st.st_mode)) {
      if (auto ok = mount_fs("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0");
          !ok)
        return ok.error().wrap("mask");
    } else if (auto ok = bind_mount(root + "/dev/null", path, false); !ok) {
      return ok.error().wrap("mask");
    }
  }
  for (const char* rel : kReadOnly) {
    const std::string path = root + rel;
    if (!exists(path)) continue;
    if (auto ok = bind_mount(path, path, true); !ok) return ok.error().wrap("read-only path");
  }
  return {};
}

Status mount_network_files(const std::string& root, const HostRefs& host, NetworkFiles mode) {
  for (const auto& [file, ref] :
       {std::pair{"/etc/resolv.conf", &host.resolv_conf}, {"/etc/hosts", &host.hosts}}) {
    if (!ref->valid()) continue;
    if (is_symlink(root, file)) {
      // Common in images (resolv.conf -> systemd's stub). Never follow it: replace the link in the
      // writable layer, or else keep the image's own file.
      if (mode != NetworkFiles::kReplaceSymlinks) continue;
      if (::unlink((root + file).c_str()) != 0) return sys_error("unlink " + root + file);
    }
    if (mode == NetworkFiles::kKeepImage && !exists(root + file)) continue;
    if (auto ok = ensure_mountpoint(root, file, true); !ok) return ok;
    if (auto ok = bind_mount(fd_path(*ref), root + file, true); !ok)
      return ok.error().wrap(std::string("host ") + file);
  }
  return {};
}

Status mount_binds(const std::string& root, const ContainerSpec& spec, const HostRefs& host) {
  const ContainerOptions& opts = spec.opts;
  for (size_t i = 0; i < opts.binds.size(); ++i) {
    const Bind& b = opts.binds[i];
    struct stat st {};
    if (::fstat(host.binds[i].get(), &st) != 0) return sys_error("-v " + b.source);
    if (auto ok = ensure_mountpoint(root, b.target, !S_ISDIR(st.st_mode)); !ok) return ok.error().wrap("-v");
    if (auto ok = bind_mount(fd_path(host.binds[i]), root + b.target, b.read_only); !ok)
      return ok.error().wrap("-v " + b.source + ":" + b.target);
    // In a user namespace the kernel refuses device nodes anyway (and the mount flags are locked).
    if (!spec.rootless)
      if (auto ok = forbid_device_nodes(root + b.target); !ok) return ok.error().wrap("-v " + b.source);
  }
  return {};
}

Status pivot_into(const std::string& root) {
  // pivot_root(".", ".") stacks the old root on top of the new one; detaching "." then removes it
  // (runc's pivotRoot). No chroot: that would leave the old mounts reachable.
  if (::chdir(root.c_str()) != 0) return sys_error("chdir " + root);
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return sys_error("pivot_root into " + root);
  if (::umount2(".", MNT_DETACH) != 0) return sys_error("detach the old root");
  if (::chdir("/") != 0) return sys_error("chdir /");
  return {};
}

}  // namespace havre::runtime
