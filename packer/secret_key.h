// The secret half of a signing key pair: havre-pack's keygen and --sign only (the runtime stub
// never holds a secret key, so none of this is in it). The .key format is in format/keys.h.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "format/signature.h"

namespace havre::keys {

/// Parses the text of a .key file and checks that its public half matches its seed; errors name `path`.
Result<signature::SecretKey> parse_secret_key(std::string_view text, const std::string& path);
std::string format_secret_key(const signature::SecretKey& key);
/// Reads and parses a .key file; a regular file that group or others may read is refused (as ssh does).
Result<signature::SecretKey> load_secret_key(const std::string& path);
/// A new random key pair (libsodium).
Result<signature::SecretKey> generate_secret_key();

}  // namespace havre::keys
