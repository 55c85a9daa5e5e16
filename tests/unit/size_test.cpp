#include "base/size.h"

#include <doctest/doctest.h>

#include <string>

namespace havre {

TEST_CASE("size: digits with an optional unit among those allowed") {
  CHECK(*parse_size("131072", "km").bytes == 131072);
  CHECK(*parse_size("128K", "km").bytes == 128ULL << 10);
  CHECK(*parse_size("128k", "km").bytes == 128ULL << 10);
  CHECK(*parse_size("1M", "km").bytes == 1ULL << 20);
  CHECK(*parse_size("10G", "kmg").bytes == 10ULL << 30);
  CHECK(*parse_size("2t", "bkmgt").bytes == 2ULL << 40);
  CHECK(*parse_size("512b", "bkmgt").bytes == 512);
  CHECK(*parse_size("0000040961", "km").bytes == 40961);  // leading zeros count for nothing
  CHECK(*parse_size("0", "km").bytes == 0);
}

TEST_CASE("size: anything else is not a size, and too large is said so") {
  for (const char* bad : {"", "K", "-4K", "+4", "4 K", " 4", "4K ", "1.5M", "4KB", "0x10", "4x", "lots"}) {
    CAPTURE(bad);
    const ParsedSize s = parse_size(bad, "bkmgt");
    CHECK_FALSE(s.bytes);
    CHECK_FALSE(s.too_large);
  }
  CHECK_FALSE(parse_size("1G", "km").bytes);  // a unit the caller does not allow
  CHECK_FALSE(parse_size("1G", "km").too_large);
  CHECK(*parse_size("18446744073709551615", "").bytes == UINT64_MAX);
  CHECK(parse_size("18446744073709551616", "").too_large);
  CHECK(parse_size("99999999999999999999999", "").too_large);
  CHECK(parse_size("16777216t", "bkmgt").too_large);  // 2^24 * 2^40
  CHECK(*parse_size("16777215t", "bkmgt").bytes == 16777215ULL << 40);
  CHECK(parse_size(std::string(1 << 20, '0') + "1", "").too_large);  // no digit count is unbounded
}

}  // namespace havre
