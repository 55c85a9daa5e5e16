#include "fuse.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <thread>

#define FUSE_USE_VERSION 32
#include <fuse3/fuse_lowlevel.h>
extern "C" {
#include <squashfuse/ll.h>
}

#include "base/log.h"
#include "base/unique_fd.h"

// libsquashfuse implements statfs under this (misspelt) name but does not declare it.
extern "C" void stfs_ll_op_statfs(fuse_req_t req, fuse_ino_t ino);

namespace havre::runtime {
namespace {

fuse_lowlevel_ops squashfs_operations() {
  fuse_lowlevel_ops ops{};
  ops.getattr = sqfs_ll_op_getattr;
  ops.opendir = sqfs_ll_op_opendir;
  ops.releasedir = sqfs_ll_op_releasedir;
  ops.readdir = sqfs_ll_op_readdir;
  ops.lookup = sqfs_ll_op_lookup;
  ops.open = sqfs_ll_op_open;
  ops.create = sqfs_ll_op_create;
  ops.release = sqfs_ll_op_release;
  ops.read = sqfs_ll_op_read;
  ops.readlink = sqfs_ll_op_readlink;
  ops.listxattr = sqfs_ll_op_listxattr;
  ops.getxattr = sqfs_ll_op_getxattr;
  ops.forget = sqfs_ll_op_forget;
  ops.statfs = stfs_ll_op_statfs;
  return ops;
}

}  // namespace

Status mount_image_fuse(const Appliance& app, const std::string& target, unsigned uid, unsigned gid) {
  // 1. The file system: libsquashfuse reading the appliance at the image offset (its own fd).
  const int image_fd = ::fcntl(app.fd.get(), F_DUPFD_CLOEXEC, 3);
  if (image_fd < 0) return sys_error("dup the appliance fd");
  auto* ll = static_cast<sqfs_ll*>(std::calloc(1, sizeof(sqfs_ll)));
  if (ll == nullptr) return error("out of memory");
  if (sqfs_init(&ll->fs, image_fd, static_cast<size_t>(app.image_offset)) != SQFS_OK)
    return error("libsquashfuse cannot read the image in " + app.path);
  if (sqfs_ll_init(ll) != SQFS_OK) return error("libsquashfuse: initialization failed");

  // 2. The kernel side: /dev/fuse, mounted by us (we are root in our user namespace), so libfuse
  //    needs no fusermount. default_permissions: the kernel checks the image's modes and owners.
  auto dev = open_fd("/dev/fuse", O_RDWR);
  if (!dev) return dev.error();
  const std::string options = "fd=" + std::to_string(dev->get()) +
                              ",rootmode=40000,user_id=" + std::to_string(uid) +
                              ",group_id=" + std::to_string(gid) + ",allow_other,default_permissions";
  if (::mount("havre", target.c_str(), "fuse.havre", MS_RDONLY | MS_NODEV | MS_NOSUID, options.c_str()) != 0)
    return sys_error("mount FUSE on " + target);

  // 3. The server: a libfuse session on that fd ("/dev/fd/N" tells libfuse it is mounted already),
  //    served by a thread of this process. Signals stay blocked in it (inherited mask): they are the
  //    init's, read from its signalfd.
  static const fuse_lowlevel_ops ops = squashfs_operations();
  char arg0[] = "havre";
  char* argv[] = {arg0, nullptr};
  fuse_args args = FUSE_ARGS_INIT(1, argv);
  fuse_session* session = fuse_session_new(&args, &ops, sizeof ops, ll);
  if (session == nullptr) return error("libfuse: cannot create a session");
  const std::string fd_path = "/dev/fd/" + std::to_string(dev->get());
  if (fuse_session_mount(session, fd_path.c_str()) != 0) return error("libfuse: cannot attach to " + fd_path);
  dev->release();  // the session owns it now
  std::thread([session] { fuse_session_loop(session); }).detach();
  log::debug("serving the image over FUSE on %s", target.c_str());
  return {};
}

}  // namespace havre::runtime
