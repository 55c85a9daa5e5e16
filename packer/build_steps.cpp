#include "build_steps.h"

#include <unistd.h>

#include <cstdio>

#include "base/log.h"
#include "interrupt.h"
#include "process.h"
#include "run.h"

namespace havre::pack {
namespace {

std::string first_line(const std::string& step) {
  const std::string line = step.substr(0, step.find('\n'));
  return line.size() > 60 ? line.substr(0, 57) + "..." : line;
}

}  // namespace

Status run_build_steps(const std::string& rootfs, const std::vector<std::string>& steps,
                       const std::map<std::string, std::string>& env, const std::string& hostname,
                       std::uint32_t epoch) {
  if (steps.empty()) return {};
  if (::geteuid() != 0)
    return error("`run` steps need root: they run as root inside the image (run havre-pack with sudo)");

  runtime::ContainerSpec spec;
  spec.directory = rootfs;
  spec.hostname = hostname;
  spec.exec.workdir = "/";
  // Like a Dockerfile's RUN: the recipe's env applies; package managers must not ask questions.
  std::map<std::string, std::string> vars = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"HOME", "/root"},
      {"DEBIAN_FRONTEND", "noninteractive"},
      {"SOURCE_DATE_EPOCH", std::to_string(epoch)}};
  for (const auto& [k, v] : env) vars[k] = v;
  for (const auto& [k, v] : vars) spec.exec.env.push_back(k + "=" + v);

  for (size_t i = 0; i < steps.size(); ++i) {
    if (auto ok = check_interrupted(); !ok) return ok;
    const std::string prefix = "[step " + std::to_string(i + 1) + "] ";
    log::info("%s%s", prefix.c_str(), first_line(steps[i]).c_str());
    LineSplitter lines(
        [&prefix](const std::string& line) { std::fprintf(stderr, "%s%s\n", prefix.c_str(), line.c_str()); });
    spec.output = [&lines](std::string_view bytes) { lines.feed(bytes); };
    spec.exec.argv = {"/bin/sh", "-ec", steps[i]};
    auto status = runtime::run_container(spec);
    lines.flush();
    if (!status)
      return status.error().wrap("step " + std::to_string(i + 1) + " (" + first_line(steps[i]) + ")");
    if (*status != 0)
      return error("step " + std::to_string(i + 1) + " (" + first_line(steps[i]) +
                   ") failed with exit status " + std::to_string(*status));
  }
  return {};
}

}  // namespace havre::pack
