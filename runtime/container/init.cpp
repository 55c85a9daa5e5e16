#include "container/init.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "container/caps.h"
#include "container/fds.h"
#include "image/fuse.h"
#include "container/report.h"
#include "container/signals.h"
#include "container/syscall_filter.h"

namespace havre::runtime {
namespace {

int exit_code(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

[[noreturn]] void fail(UniqueFd& report, const Error& err) { report_and_exit(report.get(), err); }

// The init after the command is forked: it keeps nothing the command could borrow through ptrace
// (--cap-add SYS_PTRACE reaches PID 1). No fd but the signalfd, the report pipe and the hold pipe
// (both closed right after) and, rootless, the FUSE server's image and /dev/fuse fds; the
// command's uid and gid (kill(2) then needs no CAP_KILL for it); of the capabilities only CAP_KILL,
// and only if the command has it (to signal a command that changed its uid); no_new_privs; and the
// init's allow-list filter on every thread. What stays is what the command can do already: read
// the image it sees mounted (the appliance fd is read-only), answer FUSE requests about it, signal
// processes it may signal.
Status drop_init_privileges(const ExecSpec& spec, const std::string& init_filter, std::vector<int> keep) {
  std::vector<int> server = fuse_server_fds();
  keep.insert(keep.end(), server.begin(), server.end());
  close_fds_except(std::move(keep));
  const CapSet kept = spec.caps & (CapSet{1} << CAP_KILL);
  if (auto ok = drop_bounding_set(kept); !ok) return ok;
  // Rootless, the command's --user lives in a user namespace of its own: in ours it is still us.
  if (spec.uid && !spec.in_user_namespace) {
    const unsigned gid = spec.gid.value_or(*spec.uid);
    if (::setgroups(0, nullptr) != 0) return sys_error("init: setgroups");
    if (::setresgid(gid, gid, gid) != 0) return sys_error("init: setresgid " + std::to_string(gid));
    if (::setresuid(*spec.uid, *spec.uid, *spec.uid) != 0)
      return sys_error("init: setresuid " + std::to_string(*spec.uid));
  }
  if (auto ok = limit_capabilities(kept); !ok) return ok;
  if (::prctl(PR_SET_DUMPABLE, 0) != 0) return sys_error("init: prctl(PR_SET_DUMPABLE)");
  return load_filter(init_filter, /*all_threads=*/true);
}

}  // namespace

void run_init(const ExecSpec& spec, UniqueFd report, const std::string& init_filter) {
  auto sigfd = block_into_signalfd();
  if (!sigfd) fail(report, sigfd.error());
  // The command waits on `hold` until the init has dropped its privileges: it could otherwise
  // ptrace the init before that.
  int hold[2];
  if (::pipe2(hold, O_CLOEXEC) != 0) fail(report, sys_error("pipe"));
  UniqueFd hold_read(hold[0]), hold_write(hold[1]);

  const pid_t child = ::fork();
  if (child < 0) fail(report, sys_error("fork the command"));
  if (child == 0) {
    hold_write.reset();
    char byte;
    while (::read(hold_read.get(), &byte, 1) < 0 && errno == EINTR) {
    }
    exec_command(spec);
  }
  hold_read.reset();
  if (auto ok = drop_init_privileges(spec, init_filter, {sigfd->get(), report.get(), hold_write.get()}); !ok) {
    ::kill(child, SIGKILL);
    fail(report, ok.error());
  }
  report.reset();      // EOF on the pipe: setup succeeded
  hold_write.reset();  // EOF: the command goes on
  const bool shares_terminal = command_shares_terminal(spec);

  for (;;) {
    signalfd_siginfo info{};
    if (::read(sigfd->get(), &info, sizeof info) != sizeof info) {
      if (errno == EINTR) continue;
      ::_exit(125);
    }
    if (info.ssi_signo != SIGCHLD) {
      // From the outer runtime or another process: pass it on. A signal from the terminal already
      // reached the command if it shares our process group.
      if (!(from_terminal(info) && shares_terminal)) ::kill(child, static_cast<int>(info.ssi_signo));
      continue;
    }
    log::debug("SIGCHLD");
    // Reap everything: orphans re-parented to us as well as the command.
    for (;;) {
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      // When the command is gone, so is the container: exiting makes the kernel kill the rest.
      if (pid == child) ::_exit(exit_code(status));
    }
  }
}

}  // namespace havre::runtime
