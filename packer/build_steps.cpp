#include "build_steps.h"

#include <unistd.h>

#include <cstdio>

#include "base/log.h"
#include "interrupt.h"
#include "process.h"
#include "app/build_root.h"

namespace havre::pack {
namespace {

std::string first_line(const std::string& step) {
  const std::string line = step.substr(0, step.find('\n'));
  return line.size() > 60 ? line.substr(0, 57) + "..." : line;
}

}  // namespace

Status run_build_steps(const std::string& runtime, const std::string& rootfs, const std::vector<std::string>& steps,
                       const std::map<std::string, std::string>& env, const std::string& hostname,
                       std::uint32_t epoch) {
  if (steps.empty()) return {};
  if (::geteuid() != 0)
    return error("`run` steps need root: they run as root inside the image (run havre-pack with sudo)");

  // Like a Dockerfile's RUN: the recipe's env applies; package managers must not ask questions.
  std::map<std::string, std::string> vars = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"HOME", "/root"},
      {"DEBIAN_FRONTEND", "noninteractive"},
      {"SOURCE_DATE_EPOCH", std::to_string(epoch)}};
  for (const auto& [k, v] : env) vars[k] = v;
  // The stub runs the container (runtime/app/build_root.h); run_process gives it a process group of its
  // own that an interrupt terminates, and it dies with us.
  std::vector<std::string> argv = {runtime, runtime::kBuildRootFlag, rootfs, "--hostname", hostname};
  for (const auto& [k, v] : vars) argv.insert(argv.end(), {"--env", k + "=" + v});
  argv.insert(argv.end(), {"--", "/bin/sh", "-ec", ""});

  for (size_t i = 0; i < steps.size(); ++i) {
    if (auto ok = check_interrupted(); !ok) return ok;
    const std::string prefix = "[step " + std::to_string(i + 1) + "] ";
    const std::string what = "step " + std::to_string(i + 1) + " (" + first_line(steps[i]) + ")";
    log::info("%s%s", prefix.c_str(), first_line(steps[i]).c_str());
    argv.back() = steps[i];
    auto status = run_process(
        argv, [&prefix](const std::string& line) { std::fprintf(stderr, "%s%s\n", prefix.c_str(), line.c_str()); });
    // An interrupt is the build's end, whatever the step made of the signal (run_process's error).
    if (!status) return status.error().wrap(what);
    if (status->status != 0) return error(what + " failed with exit status " + std::to_string(status->status));
  }
  return {};
}

}  // namespace havre::pack
