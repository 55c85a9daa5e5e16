#include "app/build_root.h"

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "base/log.h"
#include "container/run.h"

namespace havre::runtime {

int build_root_main(int argc, char** argv) {
  CLI::App app{"havre-runtime --havre-build-root DIR: run a build step with DIR as the container's root"};
  ContainerSpec spec;
  std::vector<std::string> env;
  app.add_option(kBuildRootFlag, spec.directory, "The root directory (used read-write)")->required();
  app.add_option("--hostname", spec.hostname, "The container's hostname");
  app.add_option("--env", env, "K=V for the command's environment (repeatable)");
  // The command is everything after "--", taken as it is (CLI11 would read its options as ours).
  int end = 1;
  while (end < argc && std::string(argv[end]) != "--") ++end;
  for (int i = end + 1; i < argc; ++i) spec.exec.argv.emplace_back(argv[i]);
  try {
    app.parse(end, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 125;
  }
  if (spec.exec.argv.empty()) {
    log::error("%s: no command after --", kBuildRootFlag);
    return 125;
  }
  for (const std::string& e : env)
    if (e.find('=') == std::string::npos || e.front() == '=') {
      log::error("--env %s: expected K=V", e.c_str());
      return 125;
    }
  spec.exec.env = env;
  spec.exec.workdir = "/";
  // Root or rootless is run_container's decision (from our euid), as for `./app run`.
  auto status = run_container(spec);
  if (!status) {
    log::error("%s", status.error().message().c_str());
    return 125;
  }
  return *status;
}

}  // namespace havre::runtime
