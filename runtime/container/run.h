// Running a container: one ordered sequence of setup steps (run.cpp), used by `./app run` and by
// havre-pack's build steps.
#pragma once

#include "base/error.h"
#include "app/cli.h"
#include "container/exec.h"
#include "format/self.h"
#include "container/spec.h"

namespace havre::runtime {

/// Runs spec.exec inside a new container; returns the command's exit status (128+N when
/// killed by signal N). Setup failures come back as an Error.
Result<int> run_container(const ContainerSpec& spec);

/// `./app run` / `./app` / `./app shell`.
Result<int> run(const Appliance& app, const RunOptions& opts);

}  // namespace havre::runtime
