#include "container/cgroup.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "test_util.h"

namespace havre::runtime {
namespace {

// /proc/self/mountinfo and /proc/self/cgroup of the three layouts (trimmed to the cgroup lines).
constexpr const char* kHybridMountinfo =
    "30 24 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
    "34 30 0:30 / /sys/fs/cgroup/memory rw,nosuid shared:14 - cgroup cgroup rw,memory\n"
    "35 30 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:15 - cgroup cgroup rw,cpu,cpuacct\n"
    "36 30 0:32 / /sys/fs/cgroup/pids rw,nosuid shared:16 - cgroup cgroup rw,pids\n";
constexpr const char* kHybridCgroup =
    "8:pids:/user.slice\n4:memory:/job/42\n2:cpu,cpuacct:/\n1:name=systemd:/user.slice\n0::/user.slice\n";

constexpr const char* kV2Mountinfo =
    "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
constexpr const char* kV2Cgroup = "0::/user.slice/user-1000.slice/app.scope\n";

std::string no_v2_controllers(const std::string&) { return ""; }

TEST_CASE("cgroup: sizes, CPU counts and process limits are parsed strictly") {
  CHECK(*parse_memory_size("64m") == 64ULL << 20);
  CHECK(*parse_memory_size("2G") == 2ULL << 30);
  CHECK(*parse_memory_size("10485760") == 10485760);
  CHECK(*parse_memory_size("8192k") == 8ULL << 20);
  CHECK_FALSE(parse_memory_size("1m"));  // below the 6 MiB minimum
  CHECK_FALSE(parse_memory_size(""));
  CHECK_FALSE(parse_memory_size("m"));
  CHECK_FALSE(parse_memory_size("-64m"));
  CHECK_FALSE(parse_memory_size("64mb"));
  CHECK_FALSE(parse_memory_size("99999999999999999g"));
  // Fifteen digits pass the length check; times 2^40 they do not fit in 64 bits.
  auto huge = parse_memory_size("999999999999999t");
  REQUIRE_FALSE(huge);
  CHECK(huge.error().message() == "--memory 999999999999999t: too large");
  CHECK(parse_memory_size("12x").error().message().find("--memory 12x") != std::string::npos);
  CHECK(format_memory_size(64ULL << 20) == "64m");
  CHECK(format_memory_size((64ULL << 20) + 1) == "67108865");

  CHECK(*parse_cpus("0.5", 2) == doctest::Approx(0.5));
  CHECK(*parse_cpus("2", 2) == doctest::Approx(2.0));
  CHECK_FALSE(parse_cpus("3", 2));
  CHECK_FALSE(parse_cpus("0", 2));
  CHECK_FALSE(parse_cpus("0.001", 2));
  CHECK_FALSE(parse_cpus("nan", 2));
  CHECK_FALSE(parse_cpus("1x", 2));
  CHECK_FALSE(parse_cpus("", 2));

  CHECK(*parse_pids_limit("100") == 100);
  CHECK_FALSE(parse_pids_limit("0"));
  CHECK_FALSE(parse_pids_limit("-1"));
  CHECK_FALSE(parse_pids_limit("1e3"));
}

TEST_CASE("cgroup: hybrid layout uses the v1 hierarchies, under the caller's own cgroups") {
  auto places =
      locate_controllers({"memory", "cpu", "pids"}, kHybridMountinfo, kHybridCgroup, no_v2_controllers);
  REQUIRE(places);
  REQUIRE(places->size() == 3);
  CHECK((*places)[0].directory == "/sys/fs/cgroup/memory/job/42");
  CHECK((*places)[1].directory == "/sys/fs/cgroup/cpu,cpuacct");
  CHECK((*places)[2].directory == "/sys/fs/cgroup/pids/user.slice");
  for (const auto& p : *places) CHECK_FALSE(p.v2);
}

TEST_CASE("cgroup: v2 layout uses the unified tree when it offers the controller") {
  std::string asked;
  auto places = locate_controllers({"memory", "pids"}, kV2Mountinfo, kV2Cgroup, [&](const std::string& dir) {
    asked = dir;
    return std::string("cpuset cpu io memory pids\n");
  });
  REQUIRE(places);
  CHECK(asked == "/sys/fs/cgroup/user.slice/user-1000.slice/app.scope");
  CHECK((*places)[0].directory == asked);
  CHECK((*places)[0].v2);
  auto missing = locate_controllers({"cpu"}, kV2Mountinfo, kV2Cgroup,
                                    [](const std::string&) { return std::string("memory pids\n"); });
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message().find("--cpus needs the cgroup 'cpu' controller") != std::string::npos);
}

TEST_CASE("cgroup: a controller in neither hierarchy is named; a mount root inside a namespace is cut") {
  auto none = locate_controllers({"pids"}, "", "0::/\n", no_v2_controllers);
  REQUIRE_FALSE(none);
  CHECK(none.error().message().find("--pids-limit") != std::string::npos);
  // A container's view: the hierarchy's root is /docker/abc and /proc/self/cgroup shows the full path.
  const char* mi = "40 30 0:32 /docker/abc /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
  auto nested = locate_controllers({"pids"}, mi, "3:pids:/docker/abc/inner\n", no_v2_controllers);
  REQUIRE(nested);
  CHECK((*nested)[0].directory == "/sys/fs/cgroup/pids/inner");
  // Blanks in a mount point are escaped as \040 in mountinfo.
  const char* spaced = "40 30 0:32 / /srv/cg\\040pids rw - cgroup cgroup rw,pids\n";
  auto unescaped = locate_controllers({"pids"}, spaced, "3:pids:/\n", no_v2_controllers);
  REQUIRE(unescaped);
  CHECK((*unescaped)[0].directory == "/srv/cg pids");
}

TEST_CASE("cgroup: limits go to the v1 and v2 files (a fake cgroup tree)") {
  auto dir = test::temp_dir();
  const std::string d = dir.path();
  for (const char* f : {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "cpu.cfs_period_us",
                        "cpu.cfs_quota_us", "pids.max", "memory.max", "cpu.max"})
    test::write_file(d + "/" + f, "");
  ResourceLimits limits;
  limits.memory_bytes = 64ULL << 20;
  limits.cpus = 0.5;
  limits.pids = 30;
  for (const char* c : {"memory", "cpu", "pids"}) REQUIRE(write_limits({c, d, false}, limits));
  CHECK(test::read_file(d + "/memory.limit_in_bytes") == "67108864");
  CHECK(test::read_file(d + "/memory.memsw.limit_in_bytes") == "67108864");
  CHECK(test::read_file(d + "/cpu.cfs_period_us") == "100000");
  CHECK(test::read_file(d + "/cpu.cfs_quota_us") == "50000");
  CHECK(test::read_file(d + "/pids.max") == "30");
  // v2: memory.swap.max is absent when the host has no swap, which is fine.
  for (const char* c : {"memory", "cpu"}) REQUIRE(write_limits({c, d, true}, limits));
  CHECK(test::read_file(d + "/memory.max") == "67108864");
  CHECK(test::read_file(d + "/cpu.max") == "50000 100000");
  // A missing limit file (controller not there after all) is an error naming the file.
  auto err = write_limits({"pids", d + "/nowhere", false}, limits);
  REQUIRE_FALSE(err);
  CHECK(err.error().message().find(d + "/nowhere/pids.max") != std::string::npos);
}

TEST_CASE("cgroup v2: controller lists end in a newline, and the last one counts too") {
  CHECK(controller_list("cpu io memory pids\n") == std::vector<std::string>{"cpu", "io", "memory", "pids"});
  CHECK(controller_list("") == std::vector<std::string>{});
  // A parent that already delegates pids (listed last, before the newline) is not written to.
  auto dir = test::temp_dir();
  const std::string d = dir.path();
  test::write_file(d + "/cgroup.subtree_control", "cpu pids\n");
  test::write_file(d + "/cgroup.procs", "");
  auto leaf = prepare_v2_parent(d, {"pids"}, ::getpid());
  REQUIRE(leaf);
  CHECK(*leaf == "");
  CHECK(test::read_file(d + "/cgroup.subtree_control") == "cpu pids\n");
}

TEST_CASE("cgroup v2: a parent holding processes (a fake tree)") {
  auto dir = test::temp_dir();
  const std::string d = dir.path();
  test::write_file(d + "/cgroup.freeze", "0\n");  // not the root cgroup
  test::write_file(d + "/cgroup.subtree_control", "\n");
  SUBCASE("busy with others: the intended message, even for threaded controllers only") {
    test::write_file(d + "/cgroup.procs", std::to_string(::getpid()) + "\n4194301\n");
    auto leaf = prepare_v2_parent(d, {"pids", "cpu"}, ::getpid());
    REQUIRE_FALSE(leaf);
    CHECK(leaf.error().message().find(d + " holds 2 processes") != std::string::npos);
    CHECK(leaf.error().message().find("systemd-run --scope") != std::string::npos);
    CHECK(test::read_file(d + "/cgroup.subtree_control") == "\n");  // nothing enabled
  }
  SUBCASE("alone: the runtime moves into a leaf first, also for threaded controllers only") {
    test::write_file(d + "/cgroup.procs", std::to_string(::getpid()) + "\n");
    const std::string want = d + "/havre-runtime-" + std::to_string(::getpid());
    ::mkdir(want.c_str(), 0755);
    test::write_file(want + "/cgroup.procs", "");
    auto leaf = prepare_v2_parent(d, {"pids"}, ::getpid());
    REQUIRE(leaf);
    CHECK(*leaf == want);
    CHECK(test::read_file(want + "/cgroup.procs") == std::to_string(::getpid()));
    CHECK(test::read_file(d + "/cgroup.subtree_control") == "+pids");
  }
  SUBCASE("the root cgroup (no cgroup.freeze) may hold processes") {
    ::unlink((d + "/cgroup.freeze").c_str());
    test::write_file(d + "/cgroup.procs", "1\n2\n");
    auto leaf = prepare_v2_parent(d, {"memory"}, ::getpid());
    REQUIRE(leaf);
    CHECK(*leaf == "");
  }
}

TEST_CASE("cgroup: the stale sweep removes the container cgroups and leaves of dead runtimes") {
  auto dir = test::temp_dir();
  const std::string d = dir.path();
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ::waitpid(dead, nullptr, 0);
  const std::string live = std::to_string(::getpid()), gone = std::to_string(dead);
  for (const std::string& name : {"havre-" + gone, "havre-runtime-" + gone, "havre-" + live,
                                  "havre-runtime-" + live, std::string("havre-other"), "unrelated-" + gone})
    REQUIRE(::mkdir((d + "/" + name).c_str(), 0755) == 0);
  remove_stale(d);
  CHECK(::access((d + "/havre-" + gone).c_str(), F_OK) != 0);
  CHECK(::access((d + "/havre-runtime-" + gone).c_str(), F_OK) != 0);
  for (const std::string& name : {"havre-" + live, "havre-runtime-" + live, std::string("havre-other"),
                                  "unrelated-" + gone})
    CHECK(::access((d + "/" + name).c_str(), F_OK) == 0);
}

}  // namespace
}  // namespace havre::runtime
