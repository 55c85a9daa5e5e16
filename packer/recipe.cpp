#include "recipe.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "base/size.h"
#include "epoch.h"
#include "format/manifest.h"

namespace havre::pack {
namespace {

namespace fs = std::filesystem;

// Walks the YAML tree; every error carries file:line:column and the dotted key.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  Error at(const YAML::Node& node, const std::string& key, const std::string& what) const {
    const YAML::Mark m = node.Mark();
    std::string where = file_;
    if (!m.is_null()) where += ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
    return error(where + ": " + (key.empty() ? "" : key + ": ") + what);
  }

  // A mapping whose keys must all be in `allowed`.
  Status check_map(const YAML::Node& node, const std::string& key,
                   const std::set<std::string>& allowed) const {
    if (!node.IsMap()) return at(node, key, "expected a mapping");
    for (const auto& kv : node) {
      const std::string k = kv.first.as<std::string>();
      if (!allowed.count(k)) {
        std::string list;
        for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
        return at(kv.first, join(key, k), "unknown key (expected one of: " + list + ")");
      }
    }
    return {};
  }

  Result<std::string> string(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) return at(node, key, "expected a string");
    // yaml-cpp passes any bytes through, but strings end up in the JSON manifest, which is UTF-8.
    if (!manifest::is_valid_utf8(node.Scalar())) return at(node, key, "not valid UTF-8");
    return node.Scalar();
  }

  // A list of strings; a single string is taken as a one-element list.
  Result<std::vector<std::string>> strings(const YAML::Node& node, const std::string& key) const {
    if (node.IsScalar()) {
      auto s = string(node, key);
      if (!s) return s.error();
      return std::vector<std::string>{*s};
    }
    if (!node.IsSequence()) return at(node, key, "expected a list of strings");
    std::vector<std::string> out;
    for (size_t i = 0; i < node.size(); ++i) {
      auto s = string(node[i], key + "[" + std::to_string(i) + "]");
      if (!s) return s.error();
      out.push_back(*s);
    }
    return out;
  }

  Result<std::map<std::string, std::string>> string_map(const YAML::Node& node,
                                                        const std::string& key) const {
    if (!node.IsMap()) return at(node, key, "expected a mapping of strings");
    std::map<std::string, std::string> out;
    for (const auto& kv : node) {
      auto k = string(kv.first, key);
      if (!k) return k.error();
      auto v = string(kv.second, join(key, *k));
      if (!v) return v.error();
      out[*k] = *v;
    }
    return out;
  }

  static std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

 private:
  std::string file_;
};

bool all_of(const std::string& text, const char* allowed) {
  return text.find_first_not_of(allowed) == std::string::npos;
}

constexpr const char* kDigits = "0123456789";

Result<std::uint32_t> parse_block_size(const std::string& text) {
  const std::optional<std::uint64_t> v = parse_size(text, "km").bytes;
  if (!v) return error("'" + text + "' is not a size (e.g. 131072, 128K, 1M)");
  if (*v < 4096 || *v > (1u << 20) || (*v & (*v - 1)) != 0)
    return error("block size must be a power of two from 4K to 1M, got '" + text + "'");
  return static_cast<std::uint32_t>(*v);
}

// "3.20.3": three dot-separated numbers.
bool is_release_version(const std::string& text) {
  if (text.size() > 64) return false;
  int parts = 0;
  for (size_t start = 0; start <= text.size(); ++parts) {
    size_t dot = text.find('.', start);
    if (dot == std::string::npos) dot = text.size();
    const std::string part = text.substr(start, dot - start);
    if (part.empty() || !all_of(part, kDigits)) return false;
    start = dot + 1;
  }
  return parts == 3;
}

// A Debian suite, variant, architecture, package or component name (at most 255 bytes).
bool is_word(const std::string& text) {
  return !text.empty() && text.size() <= 255 && std::isalnum(static_cast<unsigned char>(text[0])) &&
         all_of(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.+_-");
}

// The URL forms a base or a mirror may take.
bool is_url(const std::string& text) {
  for (const char* scheme : {"http://", "https://", "ftp://", "file://"})
    if (text.rfind(scheme, 0) == 0) return text.size() > std::string(scheme).size();
  return false;
}

std::string absolute_from(const fs::path& dir, const std::string& p) {
  return fs::weakly_canonical(fs::path(p).is_absolute() ? fs::path(p) : dir / p).string();
}

// Alpine's official minirootfs release: https://alpinelinux.org/downloads/
std::string alpine_url(const std::string& version, const std::string& arch) {
  const size_t second_dot = version.find('.', version.find('.') + 1);
  const std::string branch = "v" + version.substr(0, second_dot);
  return "https://dl-cdn.alpinelinux.org/alpine/" + branch + "/releases/" + arch + "/alpine-minirootfs-" +
         version + "-" + arch + ".tar.gz";
}

Result<std::string> parse_sha256(const Reader& r, const YAML::Node& node, const std::string& key) {
  auto s = r.string(node, key);
  if (!s) return s.error();
  if (s->size() != 64 || !all_of(*s, "0123456789abcdefABCDEF")) return r.at(node, key, "expected 64 hex digits");
  std::string out = *s;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status parse_tarball(const Reader& r, const YAML::Node& t, const fs::path& dir, BaseSpec& base) {
  if (auto ok = r.check_map(t, "base.tarball", {"path", "url", "sha256"}); !ok) return ok;
  base.kind = BaseSpec::Kind::kTarball;
  base.manifest_kind = "tarball";
  if (t["path"] && t["url"]) return r.at(t, "base.tarball", "give either path or url, not both");
  if (!t["path"] && !t["url"]) return r.at(t, "base.tarball", "missing required key 'path' or 'url'");
  if (t["sha256"]) {
    auto s = parse_sha256(r, t["sha256"], "base.tarball.sha256");
    if (!s) return s.error();
    base.sha256 = *s;
  }
  if (t["path"]) {
    auto p = r.string(t["path"], "base.tarball.path");
    if (!p) return p.error();
    base.source = *p;
    base.path = absolute_from(dir, *p);
    return {};
  }
  auto u = r.string(t["url"], "base.tarball.url");
  if (!u) return u.error();
  if (u->size() > 4096) return r.at(t["url"], "base.tarball.url", "longer than 4096 bytes");
  if (!is_url(*u) || u->find_first_of("\r\n") != std::string::npos) return r.at(t["url"], "base.tarball.url", "expected an http(s):// URL");
  if (base.sha256.empty())
    return r.at(t, "base.tarball", "a remote url needs 'sha256' (the download is verified against it)");
  base.source = base.url = *u;
  return {};
}

Status parse_alpine(const Reader& r, const YAML::Node& a, BaseSpec& base) {
  if (auto ok = r.check_map(a, "base.alpine", {"version", "arch", "sha256"}); !ok) return ok;
  for (const char* key : {"version", "sha256"})
    if (!a[key]) return r.at(a, "base.alpine", std::string("missing required key '") + key + "'");
  auto version = r.string(a["version"], "base.alpine.version");
  if (!version) return version.error();
  if (!is_release_version(*version))
    return r.at(a["version"], "base.alpine.version", "expected a release version like 3.20.3");
  std::string arch = "x86_64";
  if (a["arch"]) {
    auto s = r.string(a["arch"], "base.alpine.arch");
    if (!s) return s.error();
    if (s->empty() || !all_of(*s, "abcdefghijklmnopqrstuvwxyz0123456789_")) return r.at(a["arch"], "base.alpine.arch", "not an architecture name");
    arch = *s;
  }
  auto sha = parse_sha256(r, a["sha256"], "base.alpine.sha256");
  if (!sha) return sha.error();
  base.kind = BaseSpec::Kind::kTarball;
  base.manifest_kind = "alpine";
  base.url = base.source = alpine_url(*version, arch);
  base.sha256 = *sha;
  return {};
}

Status parse_debootstrap(const Reader& r, const YAML::Node& d, const fs::path& dir, BaseSpec& base) {
  if (auto ok = r.check_map(d, "base.debootstrap",
                            {"suite", "variant", "include", "components", "mirror", "arch", "keyring"});
      !ok)
    return ok;
  if (!d["suite"]) return r.at(d, "base.debootstrap", "missing required key 'suite'");
  DebootstrapSpec& spec = base.debootstrap;
  for (auto [key, field] :
       {std::pair{"suite", &spec.suite}, {"variant", &spec.variant}, {"arch", &spec.arch}}) {
    if (!d[key]) continue;
    auto s = r.string(d[key], std::string("base.debootstrap.") + key);
    if (!s) return s.error();
    if (!is_word(*s))
      return r.at(d[key], std::string("base.debootstrap.") + key, "'" + *s + "' is not a valid name");
    *field = *s;
  }
  for (auto [key, field] : {std::pair{"include", &spec.include}, {"components", &spec.components}}) {
    if (!d[key]) continue;
    auto list = r.strings(d[key], std::string("base.debootstrap.") + key);
    if (!list) return list.error();
    for (const std::string& w : *list)
      if (!is_word(w))
        return r.at(d[key], std::string("base.debootstrap.") + key, "'" + w + "' is not a valid name");
    *field = *list;
  }
  if (d["mirror"]) {
    auto m = r.string(d["mirror"], "base.debootstrap.mirror");
    if (!m) return m.error();
    if (m->size() > 4096)
      return r.at(d["mirror"], "base.debootstrap.mirror", "longer than 4096 bytes");
    if (!is_url(*m) || m->find(' ') != std::string::npos) return r.at(d["mirror"], "base.debootstrap.mirror", "expected a URL");
    spec.mirror = *m;
  }
  if (d["keyring"]) {
    auto k = r.string(d["keyring"], "base.debootstrap.keyring");
    if (!k) return k.error();
    spec.keyring = absolute_from(dir, *k);
  }
  base.kind = BaseSpec::Kind::kDebootstrap;
  base.manifest_kind = "debootstrap";
  base.source = "debootstrap " + spec.suite + " (" + spec.variant + ")";
  return {};
}

Status parse_base(const Reader& r, const YAML::Node& node, const fs::path& dir, BaseSpec& base) {
  if (auto ok = r.check_map(node, "base", {"tarball", "alpine", "debootstrap", "directory"}); !ok) return ok;
  if (node.size() != 1)
    return r.at(node, "base", "expected exactly one of: alpine, debootstrap, directory, tarball");
  if (node["directory"]) {
    auto d = r.string(node["directory"], "base.directory");
    if (!d) return d.error();
    base.kind = BaseSpec::Kind::kDirectory;
    base.manifest_kind = "directory";
    base.source = *d;
    base.directory = absolute_from(dir, *d);
    return {};
  }
  if (node["alpine"]) return parse_alpine(r, node["alpine"], base);
  if (node["debootstrap"]) return parse_debootstrap(r, node["debootstrap"], dir, base);
  return parse_tarball(r, node["tarball"], dir, base);
}

Result<std::pair<std::uint32_t, std::optional<std::uint32_t>>> parse_owner(const std::string& text) {
  const size_t colon = text.find(':');
  const std::string u = text.substr(0, colon), g = colon == std::string::npos ? u : text.substr(colon + 1);
  for (const std::string& id : {u, g})
    if (id.empty() || id.size() > 10 || !all_of(id, kDigits))
      return error("expected a numeric owner UID[:GID], got '" + text + "'");
  const unsigned long long uid = std::stoull(u), gid = std::stoull(g);
  if (uid > 0xfffffffeULL || gid > 0xfffffffeULL) return error("owner '" + text + "' is out of range");
  return std::pair{static_cast<std::uint32_t>(uid),
                   std::optional<std::uint32_t>(static_cast<std::uint32_t>(gid))};
}

Status parse_files(const Reader& r, const YAML::Node& node, const fs::path& dir, std::vector<FileSpec>& out) {
  if (!node.IsSequence()) return r.at(node, "files", "expected a list of {src, dst, mode, owner}");
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node f = node[i];
    const std::string key = "files[" + std::to_string(i) + "]";
    if (auto ok = r.check_map(f, key, {"src", "dst", "mode", "owner"}); !ok) return ok;
    for (const char* k : {"src", "dst"})
      if (!f[k]) return r.at(f, key, std::string("missing required key '") + k + "'");
    FileSpec spec;
    spec.line = f.Mark().line + 1;
    auto src = r.string(f["src"], key + ".src");
    if (!src) return src.error();
    spec.src = absolute_from(dir, *src);
    auto dst = r.string(f["dst"], key + ".dst");
    if (!dst) return dst.error();
    if (dst->empty() || (*dst)[0] != '/')
      return r.at(f["dst"], key + ".dst", "must be an absolute path in the image");
    for (const fs::path& part : fs::path(*dst))
      if (part == "..") return r.at(f["dst"], key + ".dst", "must name a path below / without '..'");
    std::string normal = fs::path(*dst).lexically_normal().string();
    while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
    if (normal == "/") return r.at(f["dst"], key + ".dst", "must name a path below /, not / itself");
    spec.dst = normal;
    if (f["mode"]) {
      auto m = r.string(f["mode"], key + ".mode");
      if (!m) return m.error();
      const bool octal = m->size() >= 3 && m->size() <= (m->front() == '0' ? 5u : 4u) && all_of(*m, "01234567");
      if (!octal) return r.at(f["mode"], key + ".mode", "expected an octal mode like 0755");
      spec.mode = static_cast<std::uint32_t>(std::stoul(*m, nullptr, 8));
    }
    if (f["owner"]) {
      auto o = r.string(f["owner"], key + ".owner");
      if (!o) return o.error();
      auto ids = parse_owner(*o);
      if (!ids) return r.at(f["owner"], key + ".owner", ids.error().context);
      spec.uid = ids->first;
      spec.gid = ids->second;
    }
    out.push_back(std::move(spec));
  }
  return {};
}

Status parse_squashfs(const Reader& r, const YAML::Node& node, SquashfsSpec& sq) {
  if (auto ok = r.check_map(node, "squashfs", {"compression", "block_size", "level"}); !ok) return ok;
  if (node["compression"]) {
    auto c = r.string(node["compression"], "squashfs.compression");
    if (!c) return c.error();
    if (*c != "zstd" && *c != "xz" && *c != "gzip" && *c != "lz4")
      return r.at(node["compression"], "squashfs.compression",
                  "'" + *c + "' is not one of zstd, xz, gzip, lz4");
    sq.compression = *c;
  }
  if (node["block_size"]) {
    auto s = r.string(node["block_size"], "squashfs.block_size");
    if (!s) return s.error();
    auto size = parse_block_size(*s);
    if (!size) return r.at(node["block_size"], "squashfs.block_size", size.error().context);
    sq.block_size = *size;
  }
  if (node["level"]) {
    const YAML::Node l = node["level"];
    int max = sq.compression == "zstd" ? 22 : sq.compression == "gzip" ? 9 : 0;
    if (max == 0) return r.at(l, "squashfs.level", "not supported with compression " + sq.compression);
    int level = 0;
    if (!l.IsScalar() || !YAML::convert<int>::decode(l, level) || level < 1 || level > max)
      return r.at(l, "squashfs.level", "expected an integer from 1 to " + std::to_string(max));
    sq.level = level;
  }
  return {};
}

Result<Recipe> parse_root(const Reader& r, const YAML::Node& root, const std::string& file) {
  Recipe recipe;
  recipe.file = file;
  const fs::path dir = fs::absolute(fs::path(file)).parent_path();
  if (!root.IsMap()) return r.at(root, "", "a recipe is a YAML mapping");
  if (auto ok =
          r.check_map(root, "",
                      {"name", "version", "base", "entrypoint", "cmd", "env", "workdir", "hostname", "labels",
                       "args", "user", "files", "run", "exclude", "squashfs", "source_date_epoch"});
      !ok)
    return ok.error();

  manifest::Manifest& m = recipe.manifest;
  m.name = fs::path(file).stem().string();
  for (auto [key, field] :
       {std::pair{"name", &m.name}, {"version", &m.version}, {"workdir", &m.workdir}, {"hostname", &m.hostname}}) {
    if (!root[key]) continue;
    auto s = r.string(root[key], key);
    if (!s) return s.error();
    *field = *s;
  }
  if (!manifest::is_valid_utf8(m.name))
    return r.at(root, "name", "the recipe's file name is not valid UTF-8, so give a name");
  if (!m.workdir.empty() && m.workdir.front() != '/')
    return r.at(root["workdir"], "workdir", "must be an absolute path inside the image");
  for (auto [key, field] : {std::pair{"entrypoint", &m.entrypoint}, {"cmd", &m.cmd}}) {
    if (!root[key]) continue;
    auto s = r.strings(root[key], key);
    if (!s) return s.error();
    *field = *s;
  }
  for (auto [key, field] : {std::pair{"env", &m.env}, {"labels", &m.labels}}) {
    if (!root[key]) continue;
    auto map = r.string_map(root[key], key);
    if (!map) return map.error();
    *field = *map;
  }
  for (const auto& [k, v] : m.env)
    if (k.empty() || k.find('=') != std::string::npos)
      return r.at(root["env"], "env", "'" + k + "' is not a valid variable name");

  if (root["args"]) {
    auto a = r.string(root["args"], "args");
    if (!a) return a.error();
    if (*a != "passthrough") return r.at(root["args"], "args", "the only value is 'passthrough'");
    m.args = *a;
  }
  if (root["user"]) {
    auto u = r.string(root["user"], "user");
    if (!u) return u.error();
    if (auto ids = parse_owner(*u); !ids) return r.at(root["user"], "user", ids.error().context);
    m.user = *u;
  }
  if (root["files"])
    if (auto ok = parse_files(r, root["files"], dir, recipe.files); !ok) return ok.error();
  for (auto [key, field] : {std::pair{"run", &recipe.run}, {"exclude", &recipe.exclude}}) {
    if (!root[key]) continue;
    if (!root[key].IsSequence()) return r.at(root[key], key, "expected a list of strings");
    auto list = r.strings(root[key], key);
    if (!list) return list.error();
    *field = *list;
  }
  for (size_t i = 0; i < recipe.exclude.size(); ++i)
    if (recipe.exclude[i].empty() || recipe.exclude[i].find("..") != std::string::npos)
      return r.at(root["exclude"][i], "exclude[" + std::to_string(i) + "]",
                  "expected a glob inside the image");
  if (!root["base"]) return r.at(root, "", "missing required key 'base'");
  if (auto ok = parse_base(r, root["base"], dir, recipe.base); !ok) return ok.error();
  if (root["squashfs"])
    if (auto ok = parse_squashfs(r, root["squashfs"], recipe.squashfs); !ok) return ok.error();
  if (root["source_date_epoch"]) {
    const YAML::Node e = root["source_date_epoch"];
    auto seconds = e.IsScalar() ? parse_epoch(e.Scalar()) : Result<std::uint32_t>(error("expected a number"));
    if (!seconds) return r.at(e, "source_date_epoch", seconds.error().context);
    recipe.source_date_epoch = *seconds;
  }
  return recipe;
}

}  // namespace

Result<Recipe> parse_recipe(const std::string& text, const std::string& file) {
  Reader r(file);
  try {
    YAML::Node root = YAML::Load(text);
    if (!root || root.IsNull()) return error(file + ": empty recipe (missing required key 'base')");
    return parse_root(r, root, file);
  } catch (const YAML::Exception& e) {
    return error(file + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                 ": " + e.msg);
  }
}

Result<Recipe> load_recipe(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return sys_error("open recipe " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return sys_error("read recipe " + path);
  return parse_recipe(text.str(), path);
}

}  // namespace havre::pack
