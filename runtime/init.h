// PID 1 of the container: starts the command, forwards signals to it, reaps every zombie, and exits
// with the command's status (or 128+signal). The command itself is never PID 1, so a plain `sleep`
// still dies of SIGTERM.
#pragma once

#include "base/unique_fd.h"
#include "exec.h"

namespace havre::runtime {

/// Forks the command, closes `report` (telling the outer process that setup is done), and serves as
/// init until the command exits. Never returns.
[[noreturn]] void run_init(const ExecSpec& spec, UniqueFd report);

}  // namespace havre::runtime
