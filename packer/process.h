// Running a helper program (mksquashfs) with an argv vector, never a shell.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace havre::pack {

/// A child process of havre-pack. Whatever happens to havre-pack (kill -9 included), the child gets
/// `death_signal` when it goes (PR_SET_PDEATHSIG).
struct SpawnSpec {
  std::vector<std::string> argv;       // argv[0] is looked up in PATH
  std::vector<std::string> extra_env;  // K=V added to our environment (replacing our value of the name)
  int stdin_fd = -1;                   // -1: /dev/null
  int stdout_fd = -1, stderr_fd = -1;  // -1: ours
  int death_signal = SIGKILL;
  bool own_group = true;  // leads a process group of its own (the terminal's Ctrl-C reaches only us)
};

/// Forks and execs; returns the pid once the exec succeeded (a failed exec is the error).
Result<pid_t> spawn(const SpawnSpec& spec);

struct ProcessResult {
  int status = 0;      // exit status, or 128+signal
  std::string output;  // stdout and stderr interleaved, last kKeepOutput bytes
};

/// Runs argv[0] (looked up in PATH) in a process group of its own, stdin /dev/null, stdout+stderr
/// captured, with `extra_env` (K=V) added to our environment (replacing our value of the same name).
/// Interrupting havre-pack terminates the whole group (SIGTERM, then SIGKILL after a grace period) and
/// returns the interruption as an error. `on_line`, when set, also receives each complete output line as it
/// arrives (progress for long runs).
Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const std::function<void(const std::string&)>& on_line = {},
                                  const std::vector<std::string>& extra_env = {});

/// Splits a byte stream into lines for a callback; the unterminated tail waits for more bytes.
class LineSplitter {
 public:
  explicit LineSplitter(std::function<void(const std::string&)> on_line) : on_line_(std::move(on_line)) {}
  void feed(std::string_view bytes);
  void flush();  // hands over an unterminated last line

 private:
  std::function<void(const std::string&)> on_line_;
  std::string pending_;
};

}  // namespace havre::pack
