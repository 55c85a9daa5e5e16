// The command: its argv, environment, identity and working directory, and the execve that starts it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "container/caps.h"
#include "app/cli.h"
#include "format/manifest.h"

namespace havre::runtime {

struct ExecSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in the container's PATH when it has no '/'
  std::vector<std::string> env;   // K=V
  std::string workdir = "/";
  std::optional<unsigned> uid, gid;
  bool login_shell = false;              // resolve argv at exec time: bash if present, else sh
  bool in_user_namespace = false;        // setgroups() is denied there
  std::string tty;                       // a pty slave in the container to be the command's terminal, or ""
  CapSet caps = default_capabilities();  // what the command keeps (every set, bounding included)
  bool seccomp = true;                   // the default filter (syscall_filter.h); off: --seccomp unconfined
  std::string seccomp_filter;            // its compiled BPF, handed in by the outer runtime
};

/// Docker's rules: `run CMD` runs CMD; otherwise entrypoint + (args or cmd); with neither, a login
/// shell. Environment: PATH and HOME defaults, the host's TERM, the manifest's env, then -e.
ExecSpec make_exec_spec(const manifest::Manifest& m, const RunOptions& opts, const char* host_term);

/// A working directory or command path under /proc/*/fd (or /dev/fd, /dev/std*) would reach through
/// a file descriptor -- one to the host is how CVE-2024-21626 escaped -- so it is refused, whether
/// the image or the user asked for it. Arguments after the command are data and are not checked.
Status check_paths_not_through_fds(const ExecSpec& spec);

/// Without a pty of its own (terminal.h) but with a terminal on stdin, the command stays in the
/// caller's session and process group, so the terminal's job control and signals reach it directly;
/// otherwise it gets a session of its own.
bool command_shares_terminal(const ExecSpec& spec);

/// How exec_command starts argv[0] when every execve fails: the exit status (126 not executable,
/// 127 not found), the errno and what to name.
struct ExecFailure {
  int status;
  int err;
  std::string what;
};
using ExecveFn = int (*)(const char*, char* const[], char* const[]);
/// execvpe(3)'s rules with the container's PATH (from `env`, not ours): a name with '/' as given,
/// otherwise each PATH entry in turn (EACCES remembered, ENOENT/ENOTDIR skipped, anything else
/// stops); a file execve refuses with ENOEXEC (a script without #!) runs with /bin/sh, as
/// execvp does. `cargv`/`cenv` are argv/env as execve takes them. Returns only on failure.
/// `execve_fn` is ::execve (a seam for the unit tests).
ExecFailure exec_search(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                        std::vector<char*>& cargv, std::vector<char*>& cenv, ExecveFn execve_fn);

/// In the forked child, inside the container: sets identity, session, cwd and fds, then execve.
/// Never returns: on failure prints one line and exits 126 (not executable) or 127 (not found).
[[noreturn]] void exec_command(const ExecSpec& spec);

}  // namespace havre::runtime
