#include "app/cli.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace havre::runtime {
namespace {

// parse_args over a list of words (argv[0] is "app").
Result<Options> parse(std::vector<std::string> words, bool passthrough = false) {
  words.insert(words.begin(), "app");
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  return parse_args(static_cast<int>(words.size()), argv.data(), passthrough);
}

std::string error_of(const Result<Options>& r) { return r ? "" : r.error().message(); }

TEST_CASE("cli: -v HOST:CTR[:ro|rw] as Docker splits it; anything else is refused by name") {
  auto ro = parse_bind("/srv/data:/data:ro");
  REQUIRE(ro);
  CHECK(ro->source == "/srv/data");
  CHECK(ro->target == "/data");
  CHECK(ro->read_only);
  auto rw = parse_bind("/srv/data:/data:rw");
  REQUIRE(rw);
  CHECK_FALSE(rw->read_only);
  auto plain = parse_bind("/srv//data/:/a/../data");
  REQUIRE(plain);
  CHECK(plain->source == "/srv/data/");
  CHECK(plain->target == "/data");
  CHECK_FALSE(plain->read_only);
  auto relative = parse_bind("data:/data");
  REQUIRE(relative);
  char cwd[4096];
  REQUIRE(::getcwd(cwd, sizeof cwd));
  CHECK(relative->source == std::string(cwd) + "/data");
  // Once a mount at "/x:RO", writable: now errors naming the option.
  CHECK(parse_bind("/srv:/x:RO").error().message() == "-v /srv:/x:RO: unknown option 'RO' (ro or rw)");
  CHECK(parse_bind("/srv:/x:bogus").error().message().find("unknown option 'bogus'") != std::string::npos);
  CHECK(parse_bind("/srv:/x:ro:extra").error().message() == "-v /srv:/x:ro:extra: expected HOST:CONTAINER[:ro|rw]");
  CHECK(parse_bind("/srv:/x:ro,rw").error().message().find("give one of ro and rw") != std::string::npos);
  CHECK(parse_bind("/srv:/x:").error().message().find("unknown option ''") != std::string::npos);
  CHECK_FALSE(parse_bind("/srv"));
  CHECK_FALSE(parse_bind(":/x"));
  CHECK_FALSE(parse_bind("/srv:"));
  CHECK(parse_bind("/srv:x").error().message().find("must be absolute") != std::string::npos);
  CHECK(parse_bind("/srv:/").error().message().find("root") != std::string::npos);
}

TEST_CASE("cli: --user UID[:GID], numeric") {
  auto both = parse_user("1000:100");
  REQUIRE(both);
  CHECK(both->first == 1000);
  CHECK(both->second == 100u);
  auto uid = parse_user("0");
  REQUIRE(uid);
  CHECK(uid->first == 0);
  CHECK_FALSE(uid->second);
  CHECK_FALSE(parse_user(""));
  CHECK_FALSE(parse_user("abc"));
  CHECK_FALSE(parse_user("1000:"));
  CHECK_FALSE(parse_user("-1"));
  CHECK_FALSE(parse_user("99999999999"));
}

TEST_CASE("cli: commands and run options") {
  auto run = parse({"run", "-e", "A=1", "-v", "/srv:/srv:ro", "-w", "/tmp", "--read-only", "sh", "-c", "echo"});
  REQUIRE(run);
  CHECK(run->command == Options::Command::kRun);
  CHECK(run->run.command == std::vector<std::string>{"sh", "-c", "echo"});
  CHECK(run->run.env == std::vector<std::string>{"A=1"});
  REQUIRE(run->run.binds.size() == 1);
  CHECK(run->run.binds[0].read_only);
  CHECK(run->run.workdir == "/tmp");
  CHECK(run->run.read_only);
  // `./app ARGS`: the default command with ARGS replacing cmd.
  auto dflt = parse({"hello", "world"});
  REQUIRE(dflt);
  CHECK(dflt->run.command == std::vector<std::string>{"hello", "world"});
  CHECK(dflt->run.command_replaces_cmd);
  CHECK(parse({"--version"})->command == Options::Command::kVersion);
  CHECK(parse({"version"})->command == Options::Command::kVersion);
  CHECK(parse({"info", "--json"})->json);
  // Mistakes that used to pass silently.
  CHECK(error_of(parse({"info", "--jsonx"})) == "info: unexpected argument --jsonx (see ./app help)");
  CHECK(error_of(parse({"shell", "extra"})) == "shell: unexpected argument extra (see ./app help)");
  CHECK(error_of(parse({"run", "--memory", "", "true"})).find("--memory: an empty value") != std::string::npos);
  CHECK(error_of(parse({"run", "--pids-limit", "", "true"})).find("an empty value") != std::string::npos);
  CHECK(error_of(parse({"run"})).find("missing the command") != std::string::npos);
  CHECK(error_of(parse({"run", "--no-such-option", "true"})).find("--no-such-option") != std::string::npos);
  CHECK(error_of(parse({"run", "-v", "/a:/b:RO", "true"})).find("unknown option 'RO'") != std::string::npos);
}

TEST_CASE("cli: args: passthrough gives every argument to the entrypoint but --havre-<command>") {
  auto all = parse({"run", "--help", "-v"}, true);
  REQUIRE(all);
  CHECK(all->command == Options::Command::kRun);
  CHECK(all->run.command == std::vector<std::string>{"run", "--help", "-v"});
  auto info = parse({"--havre-info", "--json"}, true);
  REQUIRE(info);
  CHECK(info->command == Options::Command::kInfo);
  CHECK(info->json);
  auto run = parse({"--havre-run", "-e", "K=V", "echo", "x"}, true);
  REQUIRE(run);
  CHECK(run->run.command == std::vector<std::string>{"echo", "x"});
}

}  // namespace
}  // namespace havre::runtime
