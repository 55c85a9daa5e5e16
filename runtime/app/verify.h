// `./app verify [--key PUBKEY]` and `run --require-signature PUBKEY`: the image and manifest hashed
// against the footer, and the footer's signature checked. Never mounts anything.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "format/signature.h"
#include "format/self.h"

namespace havre::runtime {

/// A public key to require, and the file it came from (for messages).
struct RequiredKey {
  signature::PublicKey key{};
  std::string path;
};

struct Verification {
  std::string report;                 // one line per check, for stdout
  std::vector<std::string> failures;  // empty: everything checked is fine
  bool ok() const { return failures.empty(); }
};

/// Reads the footer itself (so a manifest that no longer matches is reported, not just skipped), hashes
/// the image and the manifest in 1 MiB reads and checks the signature block, against `key` when given
/// (a signature is then required). Only I/O errors are an Error; everything else is a failure.
Result<Verification> verify_appliance(const Appliance& app, const std::optional<RequiredKey>& key);

/// For `run --require-signature`, before anything is mounted: the signature by `key` first (no hashing
/// if it is missing or wrong), then the image and manifest against the footer it covers. The error
/// says what is wrong.
Status require_signature(const Appliance& app, const RequiredKey& key);

/// `./app verify [--key PUBKEY_FILE]`: prints the report on stdout and, on a failure, one error line.
/// Returns the exit status: 0 everything checked is intact, 1 not; an Error (125) if it could not check.
Result<int> verify_command(const Appliance& app, const std::string& key_file);

/// --require-signature PUBKEY_FILE, or $HAVRE_REQUIRE_SIGNATURE when the option is not given (the
/// default command parses no options); nothing to do when neither is set.
Status check_required_signature(const Appliance& app, std::string key_file);

}  // namespace havre::runtime
