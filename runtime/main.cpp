// havre-runtime: the stub at the front of every appliance.
#include <cstdio>

#include "base/log.h"
#include "cli.h"
#include "info.h"
#include "self.h"
#include "version.h"

namespace {

int report(const havre::Error& err) {
  havre::log::error("%s", err.message().c_str());
  return 125;  // a havre failure, as opposed to the payload's own status
}

}  // namespace

int main(int argc, char** argv) {
  using havre::runtime::Options;
  havre::log::init("havre", havre::log::Level::kQuiet);
  auto opts = havre::runtime::parse_args(argc, argv);
  if (!opts) return report(opts.error());
  switch (opts->command) {
    case Options::Command::kHelp:
      std::fputs(opts->help_text.c_str(), stdout);
      return 0;
    case Options::Command::kVersion:
      std::printf("havre %s\n", havre::kVersion);
      return 0;
    case Options::Command::kInfo: {
      auto app = havre::runtime::open_appliance("/proc/self/exe");
      if (!app) return report(app.error());
      std::fputs((opts->json ? info_json(*app) : info_text(*app)).c_str(), stdout);
      return 0;
    }
    case Options::Command::kDefault:
      break;
  }
  return report(havre::error("running the image is not implemented yet; try 'info'"));
}
