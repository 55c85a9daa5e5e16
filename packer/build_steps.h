// The recipe's `run` steps: shell lines executed inside the staged rootfs, one container per step,
// run by the havre-runtime stub that goes into the appliance (`--havre-build-root`, its own isolation
// code: pivot_root, /proc, /dev, Docker's default capabilities and seccomp), host network and
// resolv.conf. havre-pack only execs it (docs/architecture.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/error.h"

namespace havre::pack {

/// Runs each step as `/bin/sh -ec STEP` as root in `rootfs` through the stub `runtime`, streaming its
/// output prefixed with the step number. The first failing step stops the build with its number,
/// first line and exit status; an interrupt (Ctrl-C, SIGTERM) stops it with the signal, and no later
/// step runs.
/// The steps see SOURCE_DATE_EPOCH=`epoch`, for the tools in the image that honour it.
Status run_build_steps(const std::string& runtime, const std::string& rootfs, const std::vector<std::string>& steps,
                       const std::map<std::string, std::string>& env, const std::string& hostname,
                       std::uint32_t epoch);

}  // namespace havre::pack
