#include "image/fuse.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <future>
#include <thread>
#include <vector>
#include <vector>

#define FUSE_USE_VERSION 312  // fuse_loop_cfg_*: the multithreaded loop's configuration
#include <fuse3/fuse_lowlevel.h>
extern "C" {
#include <squashfuse/ll.h>
}

#include "base/log.h"
#include "base/unique_fd.h"
#include "container/caps.h"

// libsquashfuse implements statfs under this (misspelt) name but does not declare it.
extern "C" void stfs_ll_op_statfs(fuse_req_t req, fuse_ino_t ino);

namespace havre::runtime {
namespace {

// One libsquashfuse file system per server thread. libsquashfuse 0.1.105 keeps its metadata, data
// and fragment caches in the sqfs_ll without locks, so threads never share one: each worker of the
// multithreaded loop leases an instance of its own (all reading the image with pread on one fd) and
// returns it when it exits. Its operations find their instance through fuse_req_userdata(), which
// the link redirects here (-Wl,--wrap=fuse_req_userdata, CMakeLists.txt).
class InstancePool {
 public:
  struct Deleter {
    void operator()(sqfs_ll* ll) const {
      sqfs_ll_destroy(ll);
      std::free(ll);
    }
  };
  using Instance = std::unique_ptr<sqfs_ll, Deleter>;

  /// Instances read the image at `offset` of the appliance through `fd` (owned; pread only).
  InstancePool(UniqueFd fd, std::uint64_t offset, std::string path)
      : fd_(std::move(fd)), offset_(offset), path_(std::move(path)) {}

  Result<Instance> open() const {
    Instance ll(static_cast<sqfs_ll*>(std::calloc(1, sizeof(sqfs_ll))));
    if (!ll) return error("out of memory");
    if (sqfs_init(&ll->fs, fd_.get(), static_cast<size_t>(offset_)) != SQFS_OK) {
      std::free(ll.release());  // a failed sqfs_init has already torn itself down: no second destroy
      return error("libsquashfuse cannot read the image in " + path_);
    }
    if (sqfs_ll_init(ll.get()) != SQFS_OK) return error("libsquashfuse: initialization failed");
    return ll;
  }

  void add(Instance ll) { free_.push_back(std::move(ll)); }
  int fd() const { return fd_.get(); }

  // This thread's instance: a free one, or a new one (a failure, i.e. out of memory, ends the
  // server: the container's file accesses then fail with ENOTCONN).
  sqfs_ll* lease() {
    std::lock_guard lock(mutex_);
    if (free_.empty()) {
      auto ll = open();
      if (!ll) {
        log::error("FUSE server: %s", ll.error().message().c_str());
        std::abort();
      }
      free_.push_back(std::move(*ll));
    }
    leased_.push_back(std::move(free_.back()));
    free_.pop_back();
    return leased_.back().get();
  }
  void give_back(sqfs_ll* ll) {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(leased_.begin(), leased_.end(), [ll](const Instance& i) { return i.get() == ll; });
    if (it == leased_.end()) return;
    free_.push_back(std::move(*it));
    leased_.erase(it);
  }

 private:
  UniqueFd fd_;
  std::uint64_t offset_;
  std::string path_;
  std::mutex mutex_;
  std::vector<Instance> free_, leased_;
};

// The pool of the one FUSE server of this process (the container's init), and each thread's lease.
InstancePool* g_pool = nullptr;
std::vector<int> g_server_fds;  // the pool's image fd and the session's /dev/fuse fd
struct Lease {
  sqfs_ll* ll = nullptr;
  ~Lease() {
    if (ll != nullptr) g_pool->give_back(ll);
  }
};
thread_local Lease t_lease;

// Server threads: 2 to 4, one per CPU. HAVRE_FUSE_THREADS=N overrides (1: the single-threaded loop).
unsigned server_threads() {
  if (const char* env = std::getenv("HAVRE_FUSE_THREADS"); env && *env) {
    const long n = std::strtol(env, nullptr, 10);
    if (n >= 1 && n <= 64) return static_cast<unsigned>(n);
  }
  return std::clamp(std::thread::hardware_concurrency(), 2U, 4U);
}

}  // namespace

// libsquashfuse's operations ask libfuse for the session's userdata; they get this thread's instance.
// (Our session's userdata is the pool; nothing else in the process uses fuse_req_userdata.)
extern "C" void* __real_fuse_req_userdata(fuse_req_t req);
extern "C" void* __wrap_fuse_req_userdata(fuse_req_t req) {
  if (g_pool == nullptr) return __real_fuse_req_userdata(req);
  if (t_lease.ll == nullptr) t_lease.ll = g_pool->lease();
  return t_lease.ll;
}

namespace {

// readdir reads through the instance stored in the handle by opendir, which may be another
// thread's: point the handle at this thread's instance first (the kernel never runs two readdirs on
// one open directory at once).
void readdir_here(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  auto* lli = reinterpret_cast<sqfs_ll_i*>(static_cast<intptr_t>(fi->fh));
  if (lli != nullptr) lli->ll = static_cast<sqfs_ll*>(fuse_req_userdata(req));
  sqfs_ll_op_readdir(req, ino, size, off, fi);
}

fuse_lowlevel_ops squashfs_operations() {
  fuse_lowlevel_ops ops{};
  ops.getattr = sqfs_ll_op_getattr;
  ops.opendir = sqfs_ll_op_opendir;
  ops.releasedir = sqfs_ll_op_releasedir;
  ops.readdir = readdir_here;
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

std::vector<int> fuse_server_fds() { return g_server_fds; }

Status mount_image_fuse(const Appliance& app, const std::string& target, unsigned uid, unsigned gid) {
  // 1. The file system: libsquashfuse instances reading the appliance at the image offset (their
  //    own fd), one per server thread.
  UniqueFd image_fd(::fcntl(app.fd.get(), F_DUPFD_CLOEXEC, 3));
  if (!image_fd.valid()) return sys_error("dup the appliance fd");
  unsigned threads = server_threads();
  auto pool = std::make_unique<InstancePool>(std::move(image_fd), app.image_offset, app.path);
  auto first = pool->open();
  if (!first) return first.error();
  // Inode numbers must not depend on which instance handed them out: only libsquashfuse's stateless
  // 64-bit mapping (no table in ino_data) allows more than one.
  if ((*first)->ino_data != nullptr) threads = 1;
  pool->add(std::move(*first));  // the other threads' instances are made when they first serve

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
  //    served by threads of this process. Signals stay blocked in them (inherited mask): they are the
  //    init's, read from its signalfd.
  static const fuse_lowlevel_ops ops = squashfs_operations();
  g_pool = pool.release();  // lives as long as the process (the container's init)
  char arg0[] = "havre";
  char* argv[] = {arg0, nullptr};
  fuse_args args = FUSE_ARGS_INIT(1, argv);
  fuse_session* session = fuse_session_new(&args, &ops, sizeof ops, g_pool);
  if (session == nullptr) return error("libfuse: cannot create a session");
  const std::string fd_path = "/dev/fd/" + std::to_string(dev->get());
  if (fuse_session_mount(session, fd_path.c_str()) != 0) return error("libfuse: cannot attach to " + fd_path);
  dev->release();  // the session owns it now
  g_server_fds = {g_pool->fd(), fuse_session_fd(session)};
  // The server threads never need a capability: the first one drops them all (the workers it
  // starts inherit that) before it serves, and tells us whether it could.
  std::promise<Status> dropped;
  std::future<Status> started = dropped.get_future();
  std::thread([session, threads, &dropped] {
    Status ok = restrict_capabilities(0);
    const bool serve = static_cast<bool>(ok);
    dropped.set_value(std::move(ok));
    if (!serve) return;
    if (threads == 1) {
      fuse_session_loop(session);
      return;
    }
    // Workers never idle out (idle = max), so each keeps its instance for the container's life.
    fuse_loop_config* config = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(config, threads);
    fuse_loop_cfg_set_idle_threads(config, threads);
    fuse_loop_cfg_set_clone_fd(config, 0);  // one /dev/fuse fd (the container has no /dev/fuse to clone)
    fuse_session_loop_mt(session, config);
    fuse_loop_cfg_destroy(config);
  }).detach();
  if (Status ok = started.get(); !ok) return ok.error().wrap("FUSE server thread");
  log::debug("serving the image over FUSE on %s with %u thread%s", target.c_str(), threads,
             threads == 1 ? "" : "s");
  return {};
}

}  // namespace havre::runtime
