// The container's init from clone() to the command: one list of setup steps (setup.cpp), like
// nsjail's containProc or crun's container_init_setup, run in the cloned child.
#pragma once

#include "base/unique_fd.h"
#include "container/run.h"

namespace havre::runtime {

/// The child's ends of the pipes and sockets to the outer runtime (run.cpp's Channels).
struct ChildEnds {
  UniqueFd report;        // setup error {errno, message} (report.h); EOF = setup done
  UniqueFd parent_alive;  // EOF/POLLHUP: the outer runtime is gone
  UniqueFd output;        // the command's stdout+stderr, when captured
  UniqueFd go;            // one byte: id maps written, cgroup joined (when needed)
  UniqueFd pty_socket;    // the pty master goes back here (with a terminal)
  UniqueFd filter;        // the compiled seccomp filters
};

/// Runs the setup steps, then serves as the container's init (init.h). Never returns and never
/// unwinds: a failure is reported once on ends.report and ends in _exit(125); an exception (a
/// bad_alloc) ends in std::terminate, which in the child is _exit(125) -- never the parent's frames.
[[noreturn]] void container_child(const ContainerSpec& spec, ChildEnds ends) noexcept;

}  // namespace havre::runtime
