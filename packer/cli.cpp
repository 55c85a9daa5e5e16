#include "cli.h"

#include <CLI/CLI.hpp>

namespace havre::pack {

CliOptions parse_args(int argc, char** argv) {
  CliOptions o;
  CLI::App app{"havre-pack: turn a YAML recipe into a single-file Linux appliance.\n"
               "Usage: havre-pack RECIPE -o OUT | havre-pack cache add FILE..."};
  app.name("havre-pack");
  app.add_option("recipe", o.pack.recipe, "The YAML recipe to build");
  app.add_option("-o,--output", o.pack.output, "Where to write the appliance");
  app.add_option("--runtime", o.pack.runtime, "The havre-runtime stub to use (default: next to havre-pack)");
  app.add_option("--cache-dir", o.pack.cache_dir, "Download cache (default: $XDG_CACHE_HOME/havre)");
  app.add_flag("--offline", o.pack.offline, "Never download: a base missing from the cache is an error");
  app.add_flag("-q,--quiet", o.quiet, "Print errors only");
  app.add_flag("-v,--verbose", o.verbose, "Print every command run");
  bool version = false;
  app.add_flag("--version", version, "Print the version");

  CLI::App* cache = app.add_subcommand("cache", "Manage the download cache");
  cache->add_option("--cache-dir", o.pack.cache_dir, "Download cache (default: $XDG_CACHE_HOME/havre)");
  CLI::App* add = cache->add_subcommand("add", "Copy files into the cache under their sha256 (air-gapped builds)");
  add->add_option("files", o.files, "Files to add")->required()->check(CLI::ExistingFile);
  cache->require_subcommand(1);

  try {
    app.parse(argc, argv);
    if (version) {
      o.command = CliOptions::Command::kVersion;
    } else if (add->parsed()) {
      o.command = CliOptions::Command::kCacheAdd;
    } else {
      if (o.pack.recipe.empty()) throw CLI::RequiredError("RECIPE");
      if (o.pack.output.empty()) throw CLI::RequiredError("-o,--output");
    }
  } catch (const CLI::ParseError& e) {
    // app.exit() prints help (returning 0) or the usage error (non-zero) once.
    o.command = CliOptions::Command::kExit;
    o.exit_code = app.exit(e) == 0 ? 0 : 2;
  }
  return o;
}

}  // namespace havre::pack
