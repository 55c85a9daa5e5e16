// The appliance's command line: `./app info [--json]`, `./app version`, `./app help`.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace havre::runtime {

struct Options {
  enum class Command { kDefault, kInfo, kVersion, kHelp } command = Command::kDefault;
  bool json = false;          // info --json
  std::string help_text;      // filled for kHelp
  std::vector<std::string> args;  // arguments for the default command
};

/// Parses argv. A usage error comes back as an Error whose message is ready to print.
Result<Options> parse_args(int argc, char** argv);

}  // namespace havre::runtime
