// havre-pack's command line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "pack.h"

namespace havre::pack {

struct CliOptions {
  enum class Command {
    kPack,
    kCacheAdd,
    kCacheList,
    kCachePrune,
    kKeygen,
    kSign,
    kVersion,
    kExit
  } command = Command::kPack;
  PackOptions pack;
  std::vector<std::string> files;               // cache add
  std::uint64_t prune_max_bytes = 10ULL << 30;  // cache prune --max-size
  int prune_max_age_days = 30;                  // cache prune --older-than
  std::string key_basename = "havre";           // keygen -o
  std::string key_comment;                      // keygen --comment ("" = the basename's file name)
  std::string sign_appliance;                   // sign APP
  std::string sign_key;                         // sign --key KEYFILE
  bool quiet = false, verbose = false;
  bool json = false;  // --json: a summary of the build on stdout (summary.h)
  int exit_code = 0;  // kExit: --help printed (0) or a usage error already printed (2)
};

CliOptions parse_args(int argc, char** argv);

}  // namespace havre::pack
