// Running a container: one ordered sequence of setup steps (run.cpp), used by `./app run` and by
// havre-pack's build steps.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "cli.h"
#include "exec.h"
#include "self.h"

namespace havre::runtime {

struct ContainerSpec {
  /// The root: the appliance's image (under a writable overlay unless opts.read_only) ...
  const Appliance* image = nullptr;
  /// ... or a host directory used read-write as it is (havre-pack's build steps).
  std::string directory;
  RunOptions opts;  // volumes, --persist, --read-only, --net; opts.command is not used here
  ExecSpec exec;
  std::string hostname;
  /// When set, the command's stdout and stderr go to a pipe whose bytes are handed to this, and its
  /// stdin is /dev/null. Otherwise it inherits the caller's stdio.
  std::function<void(std::string_view)> output;
  /// Give the command a pty of the container's own and relay the caller's terminal to it.
  bool tty = false;
};

/// Runs spec.exec inside a new container as root; returns the command's exit status (128+N when
/// killed by signal N). Setup failures come back as an Error.
Result<int> run_container(const ContainerSpec& spec);

/// `./app run` / `./app` / `./app shell`.
Result<int> run(const Appliance& app, const RunOptions& opts);

}  // namespace havre::runtime
