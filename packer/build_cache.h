// The image cache: a built SquashFS image keyed by everything that went into it, so an unchanged
// rebuild reuses it instead of unpacking, running steps and compressing again (like Docker's layer
// cache: a `run` step is keyed by its text, not by what it downloads).
#pragma once

#include <string>

#include "base/error.h"
#include "epoch.h"
#include "recipe.h"

namespace havre::pack {

/// sha256 over the havre version, the base's digest, every `files` source (names, types, modes,
/// link targets, contents; not their times, which never reach the image), owners and modes, the
/// `run` steps, `exclude`, the SquashFS options and the build's epoch (a chosen one by its value; one
/// derived from the base is covered by the base's digest).
/// Returns "" when the build cannot be keyed (a directory base: its contents are not hashed).
Result<std::string> image_cache_key(const Recipe& recipe, const std::string& base_sha256,
                                    const BuildEpoch& epoch);

}  // namespace havre::pack
