#include "app/inspect.h"

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "image/image.h"
#include "container/signals.h"
#include "container/mount.h"
#include "container/namespaces.h"

namespace havre::runtime {
namespace {

Status enter_own_user_namespace() {
  const unsigned uid = ::getuid(), gid = ::getgid();  // inside, before the maps exist, they read 65534
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return error(user_namespace_error(errno));
  // From inside, we may map exactly ourselves (to root).
  if (auto ok = write_id_maps(::getpid(), 0, 0, uid, gid); !ok) return ok;
  return make_mounts_private();
}

}  // namespace

Status mount_for_inspection(const Appliance& app, const std::string& dir) {
  const std::string target = std::filesystem::absolute(dir).lexically_normal().string();
  struct stat st {};
  if (::stat(target.c_str(), &st) != 0) return sys_error("mount point " + target);
  if (!S_ISDIR(st.st_mode)) return error("mount point " + target + " is not a directory");
  const bool rootless = ::geteuid() != 0;
  if (rootless)
    if (auto ok = enter_own_user_namespace(); !ok) return ok;
  // FUSE serves from a thread of this process; the signals we wait for must not land there.
  block_stop_signals();
  if (auto ok = mount_image(app, rootless ? ImageBackend::kFuse : ImageBackend::kLoop, target, ""); !ok)
    return ok.error();
  if (rootless)
    std::fprintf(stderr,
                 "havre: mounted read-only on %s in a private namespace; enter it with\n"
                 "  nsenter --target %d --user --mount --preserve-credentials\n"
                 "Ctrl-C unmounts\n",
                 target.c_str(), ::getpid());
  else
    std::fprintf(stderr, "havre: mounted read-only on %s; Ctrl-C unmounts\n", target.c_str());
  wait_for_stop_signal();
  if (!rootless && ::umount2(target.c_str(), MNT_DETACH) != 0) return sys_error("umount " + target);
  return {};
}

}  // namespace havre::runtime
