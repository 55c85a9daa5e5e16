// `havre-pack keygen` and `havre-pack sign`: ed25519 key pairs, and signing an existing appliance.
#pragma once

#include <string>

#include "base/error.h"

namespace havre::pack {

/// Writes BASENAME.key (the secret key, mode 0600) and BASENAME.pub (the public key, with `comment`),
/// each through a temporary file linked into place: an existing file is never overwritten.
/// Returns the key id.
Result<std::string> keygen(const std::string& basename, const std::string& comment);

/// Signs the appliance at `path` in place with the secret key in `key_file`: its image and manifest are
/// first hashed against the footer, then everything up to the end of the manifest is copied unchanged
/// into a temporary file beside it, the signature block and the signed footer are appended, and the
/// copy is renamed over `path`. An existing signature is replaced. Returns the key id.
Result<std::string> sign_appliance(const std::string& path, const std::string& key_file);

}  // namespace havre::pack
