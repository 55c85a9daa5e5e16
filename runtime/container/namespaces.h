// Namespaces: which ones a container gets, and the per-namespace setup (hostname, loopback).
#pragma once

#include <string>

#include "base/error.h"

namespace havre::runtime {

/// clone(2) flags for the container's init: mount, PID, UTS, IPC, network with --net none, and a
/// user namespace when rootless.
int container_clone_flags(bool new_network, bool new_user);

/// One line of a uid_map/gid_map (user_namespaces(7)): `inside` in the namespace is `outside`
/// outside, a range of one: "INSIDE OUTSIDE 1\n".
std::string id_map_line(unsigned inside, unsigned outside);

/// Writes the uid_map and gid_map of `pid` (with setgroups denied, as an unprivileged process must):
/// `inside_uid`/`inside_gid` in the namespace are `outside_uid`/`outside_gid` (our own ids) outside.
Status write_id_maps(pid_t pid, unsigned inside_uid, unsigned inside_gid, unsigned outside_uid,
                     unsigned outside_gid);

/// Why creating a user namespace failed with `err`, naming the setting that blocks it.
std::string user_namespace_error(int err);

/// clone(2) without a new stack (fork semantics) into the namespaces in `flags`.
/// Returns the child's pid in the parent and 0 in the child.
Result<pid_t> clone_into_namespaces(int flags);

Status set_hostname(const std::string& name);

/// A new network namespace starts with "lo" down; bring it up.
Status bring_up_loopback();

}  // namespace havre::runtime
