// Running a helper program (mksquashfs) with an argv vector, never a shell.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace havre::pack {

struct ProcessResult {
  int status = 0;      // exit status, or 128+signal
  std::string output;  // stdout and stderr interleaved, last kKeepOutput bytes
};

/// Runs argv[0] (looked up in PATH) with stdout+stderr captured. Interrupting havre-pack terminates it.
Result<ProcessResult> run_process(const std::vector<std::string>& argv);

}  // namespace havre::pack
