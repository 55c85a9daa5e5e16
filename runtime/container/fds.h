// File descriptors a process hands on: the one closer used before anything runs in the container.
#pragma once

#include <vector>

namespace havre::runtime {

/// Closes every fd >= 3 but those in `keep` (close_range(2) over the gaps; a loop on kernels
/// before 5.9). Allocates nothing beyond sorting `keep`.
void close_fds_except(std::vector<int> keep);

}  // namespace havre::runtime
