// Unpacking the image to a directory with libsquashfuse (no mount, no root): `./app extract DIR`, and
// the rootless fallback when FUSE is unavailable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/error.h"
#include "format/self.h"

namespace havre::runtime {

/// Extracts the image into `dir`, which must not exist yet. Directories, files, symlinks, fifos and
/// (as root) device nodes and owners; names that could escape (".", "..") are refused.
Status extract_image(const Appliance& app, const std::string& dir);
/// The same for the image at `image_offset` of `fd` (`name` for messages).
Status extract_tree(int fd, std::uint64_t image_offset, const std::string& name, const std::string& dir);

/// The image extracted once into the user's cache: $XDG_CACHE_HOME/havre/extracted/sha256-<sha256>.
/// The tree is trusted only for an appliance file this cache has a record of (files/<sha256>-<dev>-
/// <inode>-<size>-<ctime>: that file, unchanged since, was hashed to <sha256>); any other file's image
/// is first copied while hashed, must match the footer's sha256, and is extracted from that copy (into
/// a temporary name, renamed into place, so concurrent runs never see half a tree) if the tree is missing.
/// `why` (when not null) is logged once as the reason an extraction starts.
Result<std::string> extracted_copy(const Appliance& app, const char* why);

/// The warm copy: the extracted tree of this appliance file when the cache holds one and a record
/// that this very file was hashed to it (two stat calls, no hashing); nullopt otherwise. Trusted as
/// the image itself: every run, root or rootless, uses it as the overlay's lower layer instead of
/// mounting the image (run.cpp).
std::optional<std::string> warm_copy(const Appliance& app);

}  // namespace havre::runtime
