// The YAML recipe: what havre-pack builds. The only file that includes yaml-cpp.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "format/manifest.h"

namespace havre::pack {

struct DebootstrapSpec {
  std::string suite;  // bookworm, xenial, ...
  std::string variant = "minbase";
  std::vector<std::string> include;     // extra packages
  std::vector<std::string> components;  // main, contrib, ...
  std::string mirror;                   // "" = debootstrap's own default for the suite
  std::string arch;                     // "" = the host's
  std::string keyring;                  // "" = debootstrap's default for the suite
};

struct BaseSpec {
  // kAlpine resolves to a tarball URL; kDebootstrap builds a tree (cached as a tarball).
  enum class Kind { kTarball, kDirectory, kDebootstrap } kind = Kind::kTarball;
  std::string manifest_kind;  // "tarball", "alpine", "directory", "debootstrap"
  std::string path;           // tarball: absolute local path (resolved against the recipe's directory)
  std::string url;            // tarball: remote URL (then sha256 is required)
  std::string sha256;         // tarball: expected digest, lowercase hex; may be empty for a local path
  std::string directory;      // directory: absolute path
  DebootstrapSpec debootstrap;
  std::string source;  // as written in the recipe, for the manifest
};

/// A `files` entry: copy src (file or directory, relative to the recipe) to dst in the image.
struct FileSpec {
  std::string src;                        // absolute on the host
  std::string dst;                        // absolute in the image
  std::optional<std::uint32_t> mode;      // permission bits for dst (files; directories too)
  std::optional<std::uint32_t> uid, gid;  // owner "UID[:GID]" (numeric)
  int line = 0;                           // for messages
};

struct SquashfsSpec {
  std::string compression = "zstd";       // zstd | xz | gzip | lz4
  std::uint32_t block_size = 128 * 1024;  // power of two, 4K..1M
  std::optional<int> level;               // zstd 1..22, gzip 1..9
};

struct Recipe {
  std::string file;  // the recipe's path, for messages
  /// What the appliance runs (name, version, entrypoint, cmd, env, workdir, hostname, labels, args,
  /// user) as the recipe sets it; havre-pack fills in `build` (pack.cpp).
  manifest::Manifest manifest;
  BaseSpec base;
  std::vector<FileSpec> files;
  std::vector<std::string> run;      // build steps, each run with /bin/sh -ec inside the rootfs
  std::vector<std::string> exclude;  // globs (relative to the image root) kept out of the image
  SquashfsSpec squashfs;
  /// The build's timestamp (seconds since 1970, UTC) when the recipe pins one; SOURCE_DATE_EPOCH in
  /// the environment overrides it (epoch.h).
  std::optional<std::uint32_t> source_date_epoch;
};

/// Reads and checks a recipe. Errors name "file:line:column" and the key.
Result<Recipe> load_recipe(const std::string& path);
/// Same, from text; `file` names it in messages and anchors relative paths.
Result<Recipe> parse_recipe(const std::string& text, const std::string& file);

}  // namespace havre::pack
