// Key files for appliance signatures: the public side, shared by havre-pack and the runtime (--key,
// --require-signature); the secret side is havre-pack's alone (packer/secret_key.h) and not in the
// stub. One text line each (docs/format.md):
//   NAME.pub  "havre-ed25519 <base64 of the 32-byte public key>[ <comment>]\n"
//   NAME.key  "havre-ed25519-secret <base64 of the 64-byte secret key (seed || public key)>\n", mode 0600
// Parsing is strict: one line, standard padded base64 of the exact length, no stray bytes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/error.h"
#include "format/signature.h"

namespace havre::keys {

inline constexpr std::string_view kPublicPrefix = "havre-ed25519 ";
inline constexpr std::string_view kSecretPrefix = "havre-ed25519-secret ";

/// Parses the text of a .pub file; errors name `path`.
Result<signature::PublicKey> parse_public_key(std::string_view text, const std::string& path);

/// The .pub line; `comment` must hold no control characters (checked by check_comment()).
std::string format_public_key(const signature::PublicKey& key, std::string_view comment);
Status check_comment(std::string_view comment);

/// Reads and parses a .pub file.
Result<signature::PublicKey> load_public_key(const std::string& path);

/// Key ids as printed by info and verify: 16 hex digits.
std::string key_id_hex(const signature::PublicKey& key);

// The pieces both kinds of key file are made of (packer/secret_key.cpp uses them too).
/// The line without its final "\n"; refuses other line breaks and control characters.
Result<std::string_view> one_line(std::string_view text, const std::string& what);
/// The file's bytes (at most 4096); `mode` receives st_mode.
Result<std::string> read_key_file(const std::string& path, const std::string& what, mode_t* mode);
/// Standard padded base64 (RFC 4648) of exactly out.size() bytes, nothing else.
Status decode_base64(std::string_view b64, std::span<std::uint8_t> out, const std::string& what);
std::string encode_base64(std::span<const std::uint8_t> bytes);

}  // namespace havre::keys
