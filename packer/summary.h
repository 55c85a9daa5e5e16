// `havre-pack --json`: what a build wrote, as one JSON document on stdout for scripts and CI.
#pragma once

#include <string>

#include "base/error.h"
#include "pack.h"

namespace havre::pack {

/// The summary of a finished build: the appliance's path, size and sha256 (hashed here, from the
/// file as renamed into place), the image's and manifest's offsets, sizes and sha256 (the footer's),
/// the bases, the build's epoch, whether the image came from the cache, and "signature": null or
/// {"algorithm": "ed25519", "key_id": HEX} (--sign). Keys sorted, two-space indentation, one trailing
/// newline.
Result<std::string> summary_json(const PackResult& result);

}  // namespace havre::pack
