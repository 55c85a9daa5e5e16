#include "epoch.h"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <limits>

namespace havre::pack {

namespace fs = std::filesystem;

Result<std::uint32_t> parse_epoch(const std::string& text) {
  // Ten digits hold every valid value; longer text is refused before it could overflow.
  const bool digits =
      !text.empty() && text.size() <= 10 && text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits) return error("'" + text + "' is not a number of seconds since 1970");
  const std::uint64_t v = std::stoull(text);
  if (v > std::numeric_limits<std::uint32_t>::max())
    return error("'" + text + "' is past 2106, the last time SquashFS can store");
  return static_cast<std::uint32_t>(v);
}

Result<BuildEpoch> choose_epoch(const char* env_value, const std::optional<std::uint32_t>& recipe_value) {
  if (env_value != nullptr && *env_value != '\0') {
    auto seconds = parse_epoch(env_value);
    if (!seconds) return seconds.error().wrap("SOURCE_DATE_EPOCH");
    return BuildEpoch{BuildEpoch::Source::kEnvironment, *seconds};
  }
  if (recipe_value) return BuildEpoch{BuildEpoch::Source::kRecipe, *recipe_value};
  return BuildEpoch{};
}

std::uint32_t clamp_time(std::int64_t seconds) {
  return static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(seconds, 0, std::numeric_limits<std::uint32_t>::max()));
}

Result<std::uint32_t> newest_mtime(const std::string& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return sys_error("stat " + dir);
  std::int64_t newest = st.st_mtim.tv_sec;
  std::error_code ec;
  // The iterator does not descend through symlinks; lstat reads the links' own times.
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (::lstat(it->path().c_str(), &st) != 0) return sys_error("stat " + it->path().string());
    newest = std::max<std::int64_t>(newest, st.st_mtim.tv_sec);
  }
  if (ec) return sys_error(ec.value(), "walk " + dir);
  return clamp_time(newest);
}

std::string rfc3339_utc(std::uint32_t seconds) {
  const std::time_t t = seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace havre::pack
