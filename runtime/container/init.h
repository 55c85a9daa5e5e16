// PID 1 of the container: starts the command, forwards signals to it, reaps every zombie, and exits
// with the command's status (or 128+signal). The command itself is never PID 1, so a plain `sleep`
// still dies of SIGTERM.
#pragma once

#include <string>

#include "base/unique_fd.h"
#include "container/exec.h"

namespace havre::runtime {

/// Forks the command, drops the init's own privileges (no capability the command lacks, its uid,
/// no_new_privs, `init_filter` -- syscall_filter.h -- on every thread, no fd the command could use),
/// closes `report` (telling the outer process that setup is done), lets the command go on, and
/// serves as init until the command exits. Never returns.
[[noreturn]] void run_init(const ExecSpec& spec, UniqueFd report, const std::string& init_filter);

}  // namespace havre::runtime
