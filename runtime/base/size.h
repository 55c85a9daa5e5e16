// Sizes as every option and recipe field writes them: decimal digits with an optional unit suffix.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace havre {

struct ParsedSize {
  std::optional<std::uint64_t> bytes;  // empty: not a size, or too large (then too_large is set)
  bool too_large = false;
};

/// "131072", "128K", "2g": digits, then at most one unit among `units` (lowercase letters from
/// "bkmgt"; the text may use either case; k = 1024). Leading zeros are allowed; more than 20 digits or a value that does
/// not fit in 64 bits is too large. The caller words the error, naming its option or field.
ParsedSize parse_size(std::string_view text, std::string_view units);

}  // namespace havre
