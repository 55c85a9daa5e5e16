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

/// Beside each cached image `images/KEY.sqfs`, `images/KEY.sha256` records the image's sha256 when
/// it is stored; a reuse checks it first, so a damaged entry is rebuilt, never copied into an
/// appliance (whose footer would then vouch for the damaged bytes).
std::string image_digest_path(const std::string& image_path);

/// Whether a cached image still has the bytes recorded with it. An entry without a record, or whose
/// bytes differ, comes back as an error saying so (the caller rebuilds).
Status check_cached_image(const std::string& image_path);

/// Records the sha256 of `image` (the entry's bytes, still under a temporary name) as the record of
/// the entry `image_path`, written atomically through `temp`.
Status record_cached_image(const std::string& image, const std::string& image_path, const std::string& temp);

}  // namespace havre::pack
