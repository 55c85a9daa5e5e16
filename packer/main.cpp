// havre-pack: recipe in, single-file appliance out.
#include <cstdio>

#include "base/log.h"
#include "cache.h"
#include "cli.h"
#include "interrupt.h"
#include "pack.h"
#include "version.h"

namespace {

int report(const havre::Error& err) {
  havre::log::error("%s", err.message().c_str());
  return havre::pack::interrupted() ? 128 + havre::pack::interrupted() : 1;
}

}  // namespace

int main(int argc, char** argv) {
  using havre::pack::CliOptions;
  const CliOptions opts = havre::pack::parse_args(argc, argv);
  havre::log::init("havre-pack", opts.quiet     ? havre::log::Level::kQuiet
                                 : opts.verbose ? havre::log::Level::kDebug
                                                : havre::log::Level::kInfo);
  havre::pack::install_interrupt_handlers();
  switch (opts.command) {
    case CliOptions::Command::kExit:
      return opts.exit_code;
    case CliOptions::Command::kVersion:
      std::printf("havre-pack %s\n", havre::kVersion);
      return 0;
    case CliOptions::Command::kCacheAdd: {
      auto cache = havre::pack::Cache::open(opts.pack.cache_dir);
      if (!cache) return report(cache.error());
      for (const std::string& f : opts.files) {
        auto hex = cache->add(f);
        if (!hex) return report(hex.error());
        std::printf("%s  %s\n", hex->c_str(), f.c_str());
      }
      return 0;
    }
    case CliOptions::Command::kPack:
      break;
  }
  if (auto ok = havre::pack::pack(opts.pack); !ok) return report(ok.error());
  return 0;
}
