#include "base/cache_dir.h"

#include <cstdlib>

namespace havre {

std::optional<std::string> default_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/havre";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/havre";
  return std::nullopt;
}

}  // namespace havre
