// havre-pack's command line.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "pack.h"

namespace havre::pack {

struct CliOptions {
  enum class Command { kPack, kCacheAdd, kVersion, kExit } command = Command::kPack;
  PackOptions pack;
  std::vector<std::string> files;  // cache add
  bool quiet = false, verbose = false;
  int exit_code = 0;  // kExit: --help printed (0) or a usage error already printed (2)
};

CliOptions parse_args(int argc, char** argv);

}  // namespace havre::pack
