// The YAML recipe: what havre-pack builds. The only file that includes yaml-cpp.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace havre::pack {

struct BaseSpec {
  enum class Kind { kTarball, kDirectory } kind = Kind::kTarball;
  std::string path;    // tarball: absolute local path (resolved against the recipe's directory)
  std::string url;     // tarball: remote URL (then sha256 is required)
  std::string sha256;  // tarball: expected digest, lowercase hex; may be empty for a local path
  std::string directory;  // directory: absolute path
  std::string source;  // as written in the recipe, for the manifest
};

struct SquashfsSpec {
  std::string compression = "zstd";      // zstd | xz | gzip | lz4
  std::uint32_t block_size = 128 * 1024;  // power of two, 4K..1M
  std::optional<int> level;              // zstd 1..22, gzip 1..9
};

struct Recipe {
  std::string file;  // the recipe's path, for messages
  std::string name;
  std::string version;
  BaseSpec base;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::map<std::string, std::string> env;
  std::string workdir;
  std::string hostname;
  std::map<std::string, std::string> labels;
  std::string args;  // "passthrough" or ""
  SquashfsSpec squashfs;
};

/// Reads and checks a recipe. Errors name "file:line:column" and the key.
Result<Recipe> load_recipe(const std::string& path);
/// Same, from text; `file` names it in messages and anchors relative paths.
Result<Recipe> parse_recipe(const std::string& text, const std::string& file);

}  // namespace havre::pack
