// `havre-pack RECIPE -o OUT`: the build, as one sequence of steps.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "epoch.h"
#include "format/footer.h"
#include "format/manifest.h"

namespace havre::pack {

struct PackOptions {
  std::string recipe;
  std::string output;
  std::string runtime;    // the havre-runtime stub; "" = next to havre-pack
  std::string cache_dir;  // "" = $XDG_CACHE_HOME/havre
  bool offline = false;
  bool use_image_cache = true;  // --no-image-cache: always build the image
  std::string sign_key;         // --sign KEYFILE: a havre-pack keygen .key file; "" = unsigned
};

/// What a build wrote, for `--json`.
struct PackResult {
  std::string output;  // the appliance, absolute
  footer::Footer footer;
  std::vector<manifest::Base> bases;
  BuildEpoch epoch;
  bool image_from_cache = false;
  std::string signature_key_id;  // hex; empty when not signed (--sign)
};

Result<PackResult> pack(const PackOptions& opts);

/// The runtime stub: `explicit_path` if set, else $HAVRE_RUNTIME, else beside this executable
/// (build tree) or in ../lib/havre (installed).
Result<std::string> find_runtime(const std::string& explicit_path);

}  // namespace havre::pack
