// `havre-pack RECIPE -o OUT`: the build, as one sequence of steps.
#pragma once

#include <string>

#include "base/error.h"

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

Status pack(const PackOptions& opts);

/// The runtime stub: `explicit_path` if set, else $HAVRE_RUNTIME, else beside this executable
/// (build tree) or in ../lib/havre (installed).
Result<std::string> find_runtime(const std::string& explicit_path);

}  // namespace havre::pack
