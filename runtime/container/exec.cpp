#include "container/exec.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

#include "base/log.h"
#include "container/fds.h"
#include "container/namespaces.h"
#include "container/signals.h"
#include "container/syscall_filter.h"

namespace havre::runtime {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

[[noreturn]] void die(int status, const std::string& what, int err) {
  std::string line = "havre: " + what + (err ? std::string(": ") + std::strerror(err) : "") + "\n";
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
  ::_exit(status);
}

std::string lookup_env(const std::vector<std::string>& env, const std::string& key) {
  for (const std::string& kv : env)
    if (kv.compare(0, key.size() + 1, key + "=") == 0) return kv.substr(key.size() + 1);
  return "";
}

// Whether `path` (lexically normalized) names /proc/<pid|self|thread-self>/[task/<tid>/]fd or below.
bool through_fd(const std::string& path) {
  const std::string p = std::filesystem::path(path).lexically_normal().string();
  if (p == "/dev/fd" || p.rfind("/dev/fd/", 0) == 0 || p.rfind("/dev/std", 0) == 0) return true;
  std::vector<std::string> parts;
  for (const auto& part : std::filesystem::path(p)) parts.push_back(part.string());
  // parts: "/", "proc", PID, "fd" | "/", "proc", PID, "task", TID, "fd"
  if (parts.size() < 4 || parts[0] != "/" || parts[1] != "proc") return false;
  return parts[3] == "fd" || (parts.size() >= 6 && parts[3] == "task" && parts[5] == "fd");
}

}  // namespace

Status check_paths_not_through_fds(const ExecSpec& spec) {
  if (through_fd(spec.workdir))
    return error("working directory " + spec.workdir + ": refused, it reaches through a file descriptor");
  if (!spec.argv.empty() && spec.argv[0].find('/') != std::string::npos && through_fd(spec.argv[0]))
    return error("command " + spec.argv[0] + ": refused, it reaches through a file descriptor");
  return {};
}

bool command_shares_terminal(const ExecSpec& spec) { return spec.tty.empty() && ::isatty(STDIN_FILENO) == 1; }

ExecSpec make_exec_spec(const manifest::Manifest& m, const RunOptions& opts, const char* host_term) {
  ExecSpec spec;
  if (opts.login_shell) {
    spec.login_shell = true;
  } else if (!opts.command.empty() && !opts.command_replaces_cmd) {
    spec.argv = opts.command;  // ./app run CMD...
  } else {
    spec.argv = m.entrypoint;
    const auto& args = opts.command_replaces_cmd ? opts.command : m.cmd;
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    if (spec.argv.empty()) spec.login_shell = true;
  }

  // --user wins over the manifest's user; the manifest was checked by havre-pack, but it comes from
  // the file, so a malformed one is simply ignored rather than trusted.
  spec.uid = opts.uid;
  spec.gid = opts.gid;
  if (!spec.uid && !m.user.empty())
    if (auto ids = parse_user(m.user)) {
      spec.uid = ids->first;
      spec.gid = ids->second.value_or(ids->first);
    }

  std::map<std::string, std::string> env;
  env["PATH"] = kDefaultPath;
  env["HOME"] = spec.uid.value_or(0) == 0 ? "/root" : "/";
  if (host_term && *host_term) env["TERM"] = host_term;
  for (const auto& [k, v] : m.env) env[k] = v;
  for (const std::string& kv : opts.env) {
    const size_t eq = kv.find('=');
    env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : env) spec.env.push_back(k + "=" + v);

  spec.workdir = !opts.workdir.empty() ? opts.workdir : !m.workdir.empty() ? m.workdir : "/";
  spec.caps = opts.caps;
  spec.seccomp = opts.seccomp;
  return spec;
}

void exec_command(const ExecSpec& spec) {
  // The init blocked and ignored signals; a command must start with defaults.
  reset_signals_for_exec();

  if (!command_shares_terminal(spec)) ::setsid();
  if (!spec.tty.empty()) {
    // The pty becomes our controlling terminal and our stdio.
    const int fd = ::open(spec.tty.c_str(), O_RDWR);
    if (fd < 0 || ::ioctl(fd, TIOCSCTTY, 0) != 0) die(125, "open the terminal " + spec.tty, errno);
    for (int target = 0; target <= 2; ++target)
      if (::dup2(fd, target) < 0) die(125, "dup2 the terminal", errno);
    if (fd > 2) ::close(fd);
  }

  // Capabilities and no_new_privs before the identity changes (dropping from the bounding set needs
  // CAP_SETPCAP, which a setuid to non-root would take away).
  if (auto ok = restrict_capabilities(spec.caps); !ok) die(125, ok.error().context, ok.error().errnum);
  if (spec.in_user_namespace && spec.uid) {
    // Rootless: only the caller is mapped (to root). --user UID gives the command a user namespace of
    // its own in which the caller is UID, so it keeps the caller's identity without root's powers.
    const unsigned gid = spec.gid.value_or(*spec.uid);
    if (::unshare(CLONE_NEWUSER) != 0) die(125, "unshare a user namespace for --user", errno);
    // Our /proc files belong to root while we are non-dumpable (inherited from the init); this
    // process becomes the command at execve anyway, which sets dumpability afresh.
    ::prctl(PR_SET_DUMPABLE, 1);
    if (auto ok = write_id_maps(::getpid(), *spec.uid, gid, 0, 0); !ok)
      die(125, ok.error().context, ok.error().errnum);
  } else {
    if (spec.gid) {
      if (::setgroups(0, nullptr) != 0) die(125, "setgroups", errno);
      if (::setgid(*spec.gid) != 0) die(125, "setgid " + std::to_string(*spec.gid), errno);
    }
    if (spec.uid && ::setuid(*spec.uid) != 0) die(125, "setuid " + std::to_string(*spec.uid), errno);
  }

  std::vector<std::string> argv = spec.argv;
  if (spec.login_shell) argv = {::access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh", "-l"};

  std::vector<char*> cargv, cenv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const std::string& e : spec.env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  log::debug("exec %s", argv.at(0).c_str());
  close_fds_except({});
  // The filter goes in last: everything above needed calls it refuses (unshare, for one).
  if (spec.seccomp)
    if (auto ok = load_filter(spec.seccomp_filter); !ok) die(125, ok.error().context, ok.error().errnum);
  const ExecFailure failed = exec_search(argv, spec.env, cargv, cenv, ::execve);
  die(failed.status, failed.what, failed.err);
}

ExecFailure exec_search(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                        std::vector<char*>& cargv, std::vector<char*>& cenv, ExecveFn execve_fn) {
  const std::string& name = argv.at(0);
  // A file the kernel cannot run (no #!, not ELF) is a shell script to execvp(3): run it with
  // /bin/sh, the file as $0's argument.
  auto run = [&](const std::string& file) {
    execve_fn(file.c_str(), cargv.data(), cenv.data());
    if (errno != ENOEXEC) return errno;
    std::vector<char*> sh = {const_cast<char*>("/bin/sh"), const_cast<char*>(file.c_str())};
    sh.insert(sh.end(), cargv.begin() + 1, cargv.end());  // the rest, and the nullptr
    execve_fn("/bin/sh", sh.data(), cenv.data());
    return ENOEXEC;
  };
  if (name.find('/') != std::string::npos) {
    const int err = run(name);
    return {err == ENOENT ? 127 : 126, err, name};
  }
  // execvpe semantics, with the container's PATH rather than ours.
  const std::string path = lookup_env(env, "PATH");
  int denied = 0;
  for (size_t i = 0; i <= path.size();) {
    size_t j = path.find(':', i);
    if (j == std::string::npos) j = path.size();
    const std::string dir = j > i ? path.substr(i, j - i) : ".";
    const std::string candidate = dir + "/" + name;
    const int err = run(candidate);
    if (err == EACCES)
      denied = EACCES;
    else if (err != ENOENT && err != ENOTDIR)
      return {126, err, candidate};
    i = j + 1;
  }
  if (denied) return {126, denied, name};
  return {127, 0, name + ": command not found"};
}

}  // namespace havre::runtime
