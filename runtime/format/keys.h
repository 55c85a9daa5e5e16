// Key files for appliance signatures, shared by havre-pack (keygen, --sign) and the runtime (--key,
// --require-signature). One text line each (docs/format.md):
//   NAME.pub  "havre-ed25519 <base64 of the 32-byte public key>[ <comment>]\n"
//   NAME.key  "havre-ed25519-secret <base64 of the 64-byte secret key (seed || public key)>\n", mode 0600
// Parsing is strict: one line, standard padded base64 of the exact length, no stray bytes.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "format/signature.h"

namespace havre::keys {

inline constexpr std::string_view kPublicPrefix = "havre-ed25519 ";
inline constexpr std::string_view kSecretPrefix = "havre-ed25519-secret ";

/// Parses the text of a .pub file; errors name `path`.
Result<signature::PublicKey> parse_public_key(std::string_view text, const std::string& path);
/// Parses the text of a .key file and checks that its public half matches its seed; errors name `path`.
Result<signature::SecretKey> parse_secret_key(std::string_view text, const std::string& path);

/// The .pub line; `comment` must hold no control characters (checked by check_comment()).
std::string format_public_key(const signature::PublicKey& key, std::string_view comment);
std::string format_secret_key(const signature::SecretKey& key);
Status check_comment(std::string_view comment);

/// Reads and parses a .pub file.
Result<signature::PublicKey> load_public_key(const std::string& path);
/// Reads and parses a .key file; a regular file that group or others may read is refused (as ssh does).
Result<signature::SecretKey> load_secret_key(const std::string& path);

/// A new random key pair (libsodium).
Result<signature::SecretKey> generate_secret_key();

/// Key ids as printed by info and verify: 16 hex digits.
std::string key_id_hex(const signature::PublicKey& key);

}  // namespace havre::keys
