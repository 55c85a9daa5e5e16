// Unpacking the image to a directory with libsquashfuse (no mount, no root): `./app extract DIR`, and
// the rootless fallback when FUSE is unavailable.
#pragma once

#include <string>

#include "base/error.h"
#include "self.h"

namespace havre::runtime {

/// Extracts the image into `dir`, which must not exist yet. Directories, files, symlinks, fifos and
/// (as root) device nodes and owners; names that could escape (".", "..") are refused.
Status extract_image(const Appliance& app, const std::string& dir);

/// The image extracted once into the user's cache, keyed by the image sha256 from the footer (the
/// image is never hashed here): $XDG_CACHE_HOME/havre/extracted/<sha256>. Extracts it the first time
/// (into a temporary name, renamed into place, so concurrent runs never see half a tree).
Result<std::string> extracted_copy(const Appliance& app);

}  // namespace havre::runtime
