// The recipe's `files`: host files and directories copied into the staged rootfs.
#pragma once

#include <cstdint>
#include <vector>

#include "base/error.h"
#include "recipe.h"
#include "tarball.h"

namespace havre::pack {

/// Every entry's src exists: checked right after the recipe is read, before any download or build.
Status check_file_sources(const std::vector<FileSpec>& files, const std::string& recipe_file);

/// Copies each entry's src to its dst inside tree.dir (never through a symlink of the tree: links and
/// files are replaced, descending through a link is refused), giving everything copied the entry's
/// owner (default 0:0) and, when set, its mode. As root the
/// attributes go on disk; otherwise into tree.db, which must then cover the tree (tarball bases).
/// Everything copied gets the modification time `mtime` (the build's epoch): a checkout's file times
/// say when it was checked out, not what the file is, so they never reach the image.
Status apply_files(const std::vector<FileSpec>& files, const std::string& recipe_file, StagedTree& tree,
                   Attributes attributes, std::uint32_t mtime);

}  // namespace havre::pack
