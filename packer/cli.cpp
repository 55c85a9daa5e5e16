#include "cli.h"

#include <CLI/CLI.hpp>
#include <filesystem>

#include "base/size.h"

namespace havre::pack {

CliOptions parse_args(int argc, char** argv) {
  CliOptions o;
  CLI::App app{
      "havre-pack: turn a YAML recipe into a single-file Linux appliance.\n"
      "Usage: havre-pack RECIPE -o OUT [OPTIONS] | havre-pack cache add FILE... | cache list | cache prune\n"
      "       | havre-pack keygen [-o BASENAME] | havre-pack sign APP --key KEYFILE"};
  app.name("havre-pack");
  app.footer(
      "Exit status: 0 built; 1 the build failed (the error is on stderr, nothing is left behind);\n"
      "2 bad command line; 128+N interrupted by signal N (130 for Ctrl-C, 143 for SIGTERM).\n"
      "SOURCE_DATE_EPOCH: the build's time (see docs/reproducible.md).");
  app.add_option("recipe", o.pack.recipe, "The YAML recipe to build");
  app.add_option("-o,--output", o.pack.output, "Where to write the appliance");
  app.add_option("--runtime", o.pack.runtime, "The havre-runtime stub to use (default: next to havre-pack)");
  app.add_option("--cache-dir", o.pack.cache_dir, "Download cache (default: $XDG_CACHE_HOME/havre)");
  app.add_flag("--offline", o.pack.offline, "Never download: a base missing from the cache is an error");
  bool no_image_cache = false;
  app.add_flag("--no-image-cache", no_image_cache,
               "Build the image even if the cache holds one for the same inputs (run steps again)");
  app.add_option("--sign", o.pack.sign_key,
                 "Sign the appliance with this secret key (havre-pack keygen's .key)");
  app.add_flag(
      "--json", o.json,
      "Print a JSON summary of the build on stdout (path, size, sha256s, bases); logs stay on stderr");
  app.add_flag("-q,--quiet", o.quiet, "Print errors only");
  app.add_flag("-v,--verbose", o.verbose, "Print every command run");
  bool version = false;
  app.add_flag("--version", version, "Print the version");

  CLI::App* cache =
      app.add_subcommand("cache", "Manage the cache of downloads, debootstrap trees and images");
  cache->add_option("--cache-dir", o.pack.cache_dir, "Download cache (default: $XDG_CACHE_HOME/havre)");
  CLI::App* add =
      cache->add_subcommand("add", "Copy files into the cache under their sha256 (air-gapped builds)");
  add->add_option("files", o.files, "Files to add")->required()->check(CLI::ExistingFile);
  CLI::App* list = cache->add_subcommand("list", "List the cached downloads and debootstrap trees");
  CLI::App* prune =
      cache->add_subcommand("prune", "Remove what was not used recently, then the least recently used");
  std::string max_size = "10G";
  prune->add_option("--max-size", max_size, "Keep at most this much (e.g. 500M, 10G; default 10G)");
  prune
      ->add_option("--older-than", o.prune_max_age_days,
                   "Remove what was unused for this many days (default 30)")
      ->check(CLI::NonNegativeNumber);
  cache->require_subcommand(1);

  CLI::App* keygen = app.add_subcommand(
      "keygen",
      "Write a new ed25519 key pair: BASENAME.key (secret, 0600) and BASENAME.pub; never overwrites");
  keygen->add_option("-o,--output", o.key_basename, "Base name of the two files (default: havre)");
  keygen->add_option("--comment", o.key_comment,
                     "Comment at the end of the .pub line (default: the base name's file name)");
  CLI::App* sign = app.add_subcommand(
      "sign", "Sign an existing appliance in place (atomically; its image bytes stay as they are)");
  sign->add_option("appliance", o.sign_appliance, "The appliance to sign")->required();
  sign->add_option("--key", o.sign_key, "The secret key (havre-pack keygen's .key file)")->required();

  try {
    app.parse(argc, argv);
    o.pack.use_image_cache = !no_image_cache;
    if (version) {
      o.command = CliOptions::Command::kVersion;
    } else if (keygen->parsed()) {
      o.command = CliOptions::Command::kKeygen;
      if (o.key_comment.empty()) o.key_comment = std::filesystem::path(o.key_basename).filename().string();
    } else if (sign->parsed()) {
      o.command = CliOptions::Command::kSign;
    } else if (add->parsed()) {
      o.command = CliOptions::Command::kCacheAdd;
    } else if (list->parsed()) {
      o.command = CliOptions::Command::kCacheList;
    } else if (prune->parsed()) {
      o.command = CliOptions::Command::kCachePrune;
      // Sizes as in recipes: a number of bytes with an optional K, M, G suffix.
      const std::optional<std::uint64_t> bytes = parse_size(max_size, "kmg").bytes;
      if (!bytes) throw CLI::ValidationError("--max-size", "'" + max_size + "' is not a size (e.g. 500M, 10G)");
      o.prune_max_bytes = *bytes;
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
