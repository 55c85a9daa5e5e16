// adjust_capabilities: --cap-add / --cap-drop over Docker's default set.
#include <doctest/doctest.h>

#include <linux/capability.h>

#include "container/caps.h"

namespace havre::runtime {
namespace {

constexpr CapSet bit(int cap) { return CapSet{1} << cap; }

TEST_CASE("default_capabilities is Docker's set") { CHECK(default_capabilities() == 0xa80425fbULL); }

TEST_CASE("adjust_capabilities: names with or without CAP_, any case; drop before add") {
  auto set = adjust_capabilities(default_capabilities(), {"sys_ptrace"}, {"CAP_NET_RAW"});
  REQUIRE(set);
  CHECK(*set == ((default_capabilities() & ~bit(CAP_NET_RAW)) | bit(CAP_SYS_PTRACE)));
  // A capability both dropped and added is kept (Docker applies the adds last).
  set = adjust_capabilities(default_capabilities(), {"MKNOD"}, {"mknod"});
  REQUIRE(set);
  CHECK((*set & bit(CAP_MKNOD)) != 0);
}

TEST_CASE("adjust_capabilities: ALL") {
  auto none = adjust_capabilities(default_capabilities(), {}, {"ALL"});
  REQUIRE(none);
  CHECK(*none == 0);
  auto only = adjust_capabilities(default_capabilities(), {"KILL"}, {"all"});
  REQUIRE(only);
  CHECK(*only == bit(CAP_KILL));
  auto all = adjust_capabilities(0, {"ALL"}, {});
  REQUIRE(all);
  CHECK(*all == (~CapSet{0} >> (63 - CAP_LAST_CAP)));
}

TEST_CASE("adjust_capabilities: an unknown name is an error naming it and the option") {
  auto bad = adjust_capabilities(default_capabilities(), {"NOT_A_CAP"}, {});
  REQUIRE(!bad);
  CHECK(bad.error().message().find("--cap-add") != std::string::npos);
  CHECK(bad.error().message().find("NOT_A_CAP") != std::string::npos);
  bad = adjust_capabilities(default_capabilities(), {}, {"CAP_"});
  REQUIRE(!bad);
  CHECK(bad.error().message().find("--cap-drop") != std::string::npos);
}

}  // namespace
}  // namespace havre::runtime
