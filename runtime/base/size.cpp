#include "base/size.h"

#include <cctype>

namespace havre {

ParsedSize parse_size(std::string_view text, std::string_view units) {
  unsigned shift = 0;
  if (!text.empty() && std::isalpha(static_cast<unsigned char>(text.back()))) {
    const char unit = static_cast<char>(std::tolower(static_cast<unsigned char>(text.back())));
    const std::string_view all = "bkmgt";
    if (units.find(unit) == std::string_view::npos || all.find(unit) == std::string_view::npos) return {};
    shift = static_cast<unsigned>(all.find(unit)) * 10;
    text.remove_suffix(1);
  }
  if (text.empty()) return {};
  std::uint64_t count = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return {};
    if (count > (UINT64_MAX - 9) / 10) return {std::nullopt, true};
    count = count * 10 + static_cast<unsigned>(c - '0');
  }
  if (text.size() > 20 || count > (UINT64_MAX >> shift)) return {std::nullopt, true};
  return {count << shift, false};
}

}  // namespace havre
