// The build's timestamp (reproducible-builds.org's SOURCE_DATE_EPOCH): no time the image or the
// manifest records is newer than it, so the same recipe and base bytes give the same appliance on
// any day, in any directory, as any user.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/error.h"

namespace havre::pack {

/// Seconds since 1970 as SquashFS stores them: a decimal number from 0 to 4294967295.
Result<std::uint32_t> parse_epoch(const std::string& text);

/// Where the build's epoch comes from, first match wins.
struct BuildEpoch {
  enum class Source {
    kEnvironment,  // SOURCE_DATE_EPOCH
    kRecipe,       // the recipe's source_date_epoch
    kBase,         // the newest modification time in the base, known once it is staged
  };
  Source source = Source::kBase;
  std::uint32_t seconds = 0;
  /// Somebody chose this time (environment or recipe): the manifest records it as build.created.
  bool chosen() const { return source != Source::kBase; }
};

/// SOURCE_DATE_EPOCH (`env_value`; null or "" is unset) if set, else `recipe_value`, else kBase.
/// A SOURCE_DATE_EPOCH that is not a number in range is an error, never silently the clock.
Result<BuildEpoch> choose_epoch(const char* env_value, const std::optional<std::uint32_t>& recipe_value);

/// A file time as the image can hold it: negative times are 0, times past 2106 are the last second.
std::uint32_t clamp_time(std::int64_t seconds);

/// The newest modification time of `dir` and everything under it, symlinks not followed.
Result<std::uint32_t> newest_mtime(const std::string& dir);

/// "2023-11-14T22:13:20Z".
std::string rfc3339_utc(std::uint32_t seconds);

}  // namespace havre::pack
