// havre-pack: recipe in, single-file appliance out.
#include <cstdio>
#include <ctime>

#include "base/log.h"
#include "cache.h"
#include "cli.h"
#include "interrupt.h"
#include "pack.h"
#include "sign.h"
#include "summary.h"
#include "version.h"

namespace {

// Exit status (documented in --help): 0 built, 1 failed, 2 bad command line (cli.cpp), 128+N
// interrupted by signal N.
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
    case CliOptions::Command::kCacheList: {
      auto cache = havre::pack::Cache::open(opts.pack.cache_dir);
      if (!cache) return report(cache.error());
      auto entries = cache->entries();
      if (!entries) return report(entries.error());
      std::uint64_t total = 0;
      for (const auto& e : *entries) {
        char when[32];
        std::tm tm{};
        const std::time_t t = e.last_used;
        gmtime_r(&t, &tm);
        std::strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
        std::printf("%-11s %10.1f MB  used %s  %s\n", e.kind.c_str(), e.size / 1e6, when, e.path.c_str());
        total += e.size;
      }
      std::printf("%zu entries, %.1f MB in %s\n", entries->size(), total / 1e6, cache->dir().c_str());
      return 0;
    }
    case CliOptions::Command::kCachePrune: {
      auto cache = havre::pack::Cache::open(opts.pack.cache_dir);
      if (!cache) return report(cache.error());
      auto removed = cache->prune(opts.prune_max_bytes, opts.prune_max_age_days);
      if (!removed) return report(removed.error());
      std::uint64_t freed = 0;
      for (const auto& e : *removed) {
        std::printf("removed %s (%.1f MB)\n", e.path.c_str(), e.size / 1e6);
        freed += e.size;
      }
      std::printf("freed %.1f MB\n", freed / 1e6);
      return 0;
    }
    case CliOptions::Command::kKeygen: {
      auto id = havre::pack::keygen(opts.key_basename, opts.key_comment);
      if (!id) return report(id.error());
      std::printf("wrote %s.key (secret: keep it private) and %s.pub (key id %s)\n",
                  opts.key_basename.c_str(), opts.key_basename.c_str(), id->c_str());
      return 0;
    }
    case CliOptions::Command::kSign: {
      auto id = havre::pack::sign_appliance(opts.sign_appliance, opts.sign_key);
      if (!id) return report(id.error());
      std::printf("signed %s with key id %s\n", opts.sign_appliance.c_str(), id->c_str());
      return 0;
    }
    case CliOptions::Command::kPack:
      break;
  }
  auto result = havre::pack::pack(opts.pack);
  if (!result) return report(result.error());
  if (opts.json) {
    auto summary = havre::pack::summary_json(*result);
    if (!summary) return report(summary.error());
    std::fputs(summary->c_str(), stdout);
    if (std::fflush(stdout) != 0) return report(havre::sys_error("write the summary to stdout"));
  }
  return 0;
}
