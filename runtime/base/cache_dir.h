// Where havre keeps its caches (havre-pack's downloads and images, the runtime's extracted trees).
#pragma once

#include <optional>
#include <string>

namespace havre {

/// $XDG_CACHE_HOME/havre, else $HOME/.cache/havre; nothing when neither variable is set.
std::optional<std::string> default_cache_dir();

}  // namespace havre
