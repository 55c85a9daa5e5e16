// havre-runtime: the stub at the front of every appliance.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/log.h"
#include "app/build_root.h"
#include "app/cli.h"
#include "image/extract.h"
#include "app/info.h"
#include "app/inspect.h"
#include "container/run.h"
#include "format/self.h"
#include "app/verify.h"
#include "version.h"

namespace {

int report(const havre::Error& err) {
  havre::log::error("%s", err.message().c_str());
  return 125;  // a havre failure, as opposed to the command's own status
}

}  // namespace

int main(int argc, char** argv) {
  using havre::runtime::Options;
  // The command's stdio is the user's: silent unless asked, errors only.
  const char* debug = std::getenv("HAVRE_DEBUG");
  havre::log::init(
      "havre", debug && std::strcmp(debug, "1") == 0 ? havre::log::Level::kDebug : havre::log::Level::kQuiet);
  // havre-pack's run steps (build_root.h): before the appliance is looked at, since the bare stub has none.
  if (argc > 1 && std::strcmp(argv[1], havre::runtime::kBuildRootFlag) == 0)
    return havre::runtime::build_root_main(argc, argv);
  // The footer is one pread away; the manifest says whether arguments are ours (args: passthrough).
  auto app = havre::runtime::open_self();
  const bool passthrough = app && app->manifest && app->manifest->args == "passthrough";
  auto opts = havre::runtime::parse_args(argc, argv, passthrough);
  if (!opts) return report(opts.error());

  switch (opts->command) {
    case Options::Command::kHelp:
      std::fputs(opts->help_text.c_str(), stdout);
      return 0;
    case Options::Command::kVersion:
      std::printf("havre %s\n", havre::kVersion);
      return 0;
    case Options::Command::kInfo:
      if (!app) return report(app.error());
      std::fputs((opts->json ? info_json(*app) : info_text(*app)).c_str(), stdout);
      return 0;
    case Options::Command::kVerify:
      if (!app) return report(app.error());
      {
        auto status = havre::runtime::verify_command(*app, opts->key_file);
        return status ? *status : report(status.error());
      }
    case Options::Command::kExtract: {
      if (!app) return report(app.error());
      if (auto ok = havre::runtime::extract_image(*app, opts->directory); !ok) return report(ok.error());
      std::fprintf(stderr, "havre: extracted the image to %s\n", opts->directory.c_str());
      return 0;
    }
    case Options::Command::kMount: {
      if (!app) return report(app.error());
      if (auto ok = havre::runtime::mount_for_inspection(*app, opts->directory); !ok)
        return report(ok.error());
      return 0;
    }
    case Options::Command::kRun:
      break;
  }
  if (!app) return report(app.error());
  if (auto ok = havre::runtime::check_required_signature(*app, opts->run.require_signature); !ok)
    return report(ok.error());
  auto status = havre::runtime::run(*app, opts->run);
  if (!status) return report(status.error());
  return *status;
}
