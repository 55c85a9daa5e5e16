// havre-pack's work directory beside the output (`.NAME.havre-XXXXXX`), and the removal of those
// that builds killed with SIGKILL (or a crash, or a power cut) left behind.
#pragma once

#include <string>

#include "base/error.h"
#include "tempdir.h"

namespace havre::pack {

/// Creates `<parent>/<prefix>XXXXXX` and records in it who owns it: our pid, the process's start
/// time (so a reused pid is told apart) and the boot id.
Result<TempDir> make_work_dir(const std::string& parent, const std::string& prefix);

/// Removes the work directories in `parent` (any `.*.havre-XXXXXX` of ours) whose recorded owner is
/// no longer running. A directory without a record, someone else's, or a live build's is left alone.
void remove_stale_work_dirs(const std::string& parent);

}  // namespace havre::pack
