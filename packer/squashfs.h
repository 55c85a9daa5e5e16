// Building the SquashFS image with mksquashfs (argv vector, all cores, errors surfaced).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "recipe.h"
#include "tarball.h"

namespace havre::pack {

/// The mksquashfs command line that writes `dir` into `output` starting at byte `offset`, leaving out
/// the `exclude` globs (relative to the image root); `xattrs`: store the tree's extended attributes
/// (root builds, whose staged tree holds them for real).
std::vector<std::string> mksquashfs_argv(const std::string& dir, const SquashfsSpec& spec,
                                         const std::vector<std::string>& exclude, const std::string& output,
                                         std::uint64_t offset, unsigned processors, bool xattrs);

/// Runs mksquashfs on the tree; when the tree carries a fakeroot state (unprivileged builds), under
/// a faked daemon loaded with it. `epoch` becomes the image's creation time, and every file time
/// newer than it is stored as `epoch` (mksquashfs's own SOURCE_DATE_EPOCH clamping, which leaves the
/// tree on disk alone: a directory base is the user's own).
Status build_image(const StagedTree& tree, const SquashfsSpec& spec, const std::vector<std::string>& exclude,
                   const std::string& work_dir, const std::string& output, std::uint64_t offset,
                   std::uint32_t epoch);

}  // namespace havre::pack
