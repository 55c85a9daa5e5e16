#include "build_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "base/sha256.h"
#include "tarball.h"
#include "version.h"

namespace havre::pack {
namespace {

namespace fs = std::filesystem;

class KeyBuilder {
 public:
  void add(const std::string& field) {
    // Length-prefixed, so no two different field lists hash alike.
    const std::string framed = std::to_string(field.size()) + ":" + field;
    hash_.update(std::as_bytes(std::span(framed)));
  }
  std::string finish() { return to_hex(hash_.finish()); }

 private:
  Sha256 hash_;
};

// A file or tree as it will be copied: relative names, types, permission bits, link targets, contents.
Status add_tree(KeyBuilder& key, const std::string& path) {
  std::vector<std::string> names;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return sys_error("stat " + path);
  if (S_ISDIR(st.st_mode)) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(path, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      names.push_back(fs::relative(it->path(), path).string());
    if (ec) return sys_error(ec.value(), "walk " + path);
    std::sort(names.begin(), names.end());
  }
  names.insert(names.begin(), "");
  for (const std::string& name : names) {
    const std::string full = name.empty() ? path : path + "/" + name;
    if (::lstat(full.c_str(), &st) != 0) return sys_error("stat " + full);
    key.add(name);
    key.add(std::to_string(st.st_mode));
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      key.add(fs::read_symlink(full, ec).string());
    } else if (S_ISREG(st.st_mode)) {
      auto digest = verify_sha256(full, "");
      if (!digest) return digest.error();
      key.add(to_hex(*digest));
    }
  }
  return {};
}

}  // namespace

Result<std::string> image_cache_key(const Recipe& r, const std::string& base_sha256,
                                    const BuildEpoch& epoch) {
  if (r.base.kind == BaseSpec::Kind::kDirectory || base_sha256.empty()) return std::string();
  KeyBuilder key;
  key.add("havre-image-1");
  key.add(kVersion);
  key.add(base_sha256);
  for (const FileSpec& f : r.files) {
    key.add("file");
    key.add(f.dst);
    key.add(f.mode ? std::to_string(*f.mode) : "-");
    key.add(f.uid ? std::to_string(*f.uid) + ":" + std::to_string(f.gid.value_or(*f.uid)) : "-");
    if (auto ok = add_tree(key, f.src); !ok) return ok.error().wrap("files: " + f.src);
  }
  for (const std::string& step : r.run) key.add("run:" + step);
  if (!r.run.empty()) key.add("hostname:" + r.manifest.name);  // the steps' hostname (build_steps.cpp)
  for (const std::string& e : r.exclude) key.add("exclude:" + e);
  for (const auto& [k, v] : r.manifest.env) key.add("env:" + k + "=" + v);  // steps see the recipe's env
  key.add(r.squashfs.compression);
  key.add(std::to_string(r.squashfs.block_size));
  key.add(r.squashfs.level ? std::to_string(*r.squashfs.level) : "-");
  key.add(epoch.chosen() ? "epoch:" + std::to_string(epoch.seconds) : "epoch:base");
  return key.finish();
}

}  // namespace havre::pack
