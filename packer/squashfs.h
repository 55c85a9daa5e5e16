// Building the SquashFS image with mksquashfs (argv vector, all cores, errors surfaced).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "recipe.h"
#include "tarball.h"

namespace havre::pack {

/// The command line that writes `dir` into `output` starting at byte `offset`: mksquashfs, run under
/// `fakeroot -i FAKEROOT_DB` when `fakeroot_db` is not "".
std::vector<std::string> mksquashfs_argv(const std::string& dir, const SquashfsSpec& spec,
                                         const std::string& fakeroot_db, const std::string& output,
                                         std::uint64_t offset, unsigned processors);

/// Writes the tree's fakeroot state into work_dir (if it has one) and runs mksquashfs.
Status build_image(const StagedTree& tree, const SquashfsSpec& spec, const std::string& work_dir,
                   const std::string& output, std::uint64_t offset);

}  // namespace havre::pack
