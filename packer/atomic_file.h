// Putting a finished file in place all at once: fsync it, rename(2) it over the target, fsync the
// directory so the rename itself survives a crash. The one writer of appliances, signed
// appliances and the image cache's records.
#pragma once

#include <string>

#include "base/error.h"

namespace havre::pack {

/// fsyncs the open `fd` (the file `temp`), renames temp to target and fsyncs target's directory.
Status commit_file(int fd, const std::string& temp, const std::string& target);

/// fsyncs the directory holding `path` ("." for a bare name).
Status fsync_parent_dir(const std::string& path);

/// Writes `text` to the new file `temp` (mode 0644), then commits it as `target`.
Status write_file_atomically(const std::string& target, const std::string& text, const std::string& temp);

}  // namespace havre::pack
