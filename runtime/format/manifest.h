// The manifest: what the appliance runs and how it was built. JSON, written by havre-pack between the
// image and the footer, read by the runtime.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/error.h"

namespace havre::manifest {

struct Base {
  std::string kind;    // "tarball", "directory"
  std::string source;  // URL, path or directory as the recipe named it
  std::string sha256;  // hex; empty for a directory
};

struct Manifest {
  std::string name;
  std::string version;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::map<std::string, std::string> env;
  std::string workdir;
  std::string hostname;
  std::map<std::string, std::string> labels;
  std::string args;  // "passthrough": every argument goes to the entrypoint; "" otherwise
  std::string user;  // "UID[:GID]" the command runs as unless --user says otherwise; "" = root
  struct Build {
    std::string havre_version;
    std::vector<Base> bases;
    std::string created;  // RFC 3339, UTC; "" (and absent from the JSON) unless the build chose a time
  } build;
};

/// Serializes with sorted keys and a trailing newline (the same manifest always gives the same bytes).
std::string to_json(const Manifest& m);
/// Parses and checks every field's type; unknown keys are ignored (newer packers may add some).
Result<Manifest> from_json(std::string_view text);
/// Parses the first JSON value in text, ignoring what follows (used when the footer is lost and the
/// manifest's end is unknown). Returns the parsed manifest and its length in bytes.
Result<std::pair<Manifest, size_t>> from_json_prefix(std::string_view text);
/// Pretty-printed JSON of the manifest, for `info --json`.
std::string to_json_value(const Manifest& m);
/// Whether text can be a manifest string: JSON text is UTF-8, and to_json() throws on anything else.
bool is_valid_utf8(std::string_view text);

}  // namespace havre::manifest
