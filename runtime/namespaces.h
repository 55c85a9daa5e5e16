// Namespaces: which ones a container gets, and the per-namespace setup (hostname, loopback).
#pragma once

#include <string>

#include "base/error.h"

namespace havre::runtime {

/// clone(2) flags for the container's init: mount, PID, UTS, IPC, and network with --net none.
int container_clone_flags(bool new_network);

/// clone(2) without a new stack (fork semantics) into the namespaces in `flags`.
/// Returns the child's pid in the parent and 0 in the child.
Result<pid_t> clone_into_namespaces(int flags);

Status set_hostname(const std::string& name);

/// A new network namespace starts with "lo" down; bring it up.
Status bring_up_loopback();

}  // namespace havre::runtime
