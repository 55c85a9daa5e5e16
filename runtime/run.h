// `./app run`: the container, as one ordered sequence of steps (run.cpp).
#pragma once

#include "base/error.h"
#include "cli.h"
#include "self.h"

namespace havre::runtime {

/// Runs the command inside the appliance's image; returns its exit status (125 on havre failures,
/// which come back as an Error).
Result<int> run(const Appliance& app, const RunOptions& opts);

}  // namespace havre::runtime
