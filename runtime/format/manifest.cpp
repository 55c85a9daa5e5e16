#include "format/manifest.h"

#include <nlohmann/json.hpp>
#include <sstream>

namespace havre::manifest {
namespace {

using nlohmann::json;

json to_value(const Manifest& m) {
  json bases = json::array();
  for (const Base& b : m.build.bases)
    bases.push_back({{"kind", b.kind}, {"source", b.source}, {"sha256", b.sha256}});
  json build = {{"havre_version", m.build.havre_version}, {"bases", bases}};
  // Absent unless the build chose a time: a reproducible build has no "now" to record.
  if (!m.build.created.empty()) build["created"] = m.build.created;
  json out{
      {"name", m.name},         {"version", m.version}, {"entrypoint", m.entrypoint},
      {"cmd", m.cmd},           {"env", m.env},         {"workdir", m.workdir},
      {"hostname", m.hostname}, {"labels", m.labels},   {"args", m.args},
      {"user", m.user},         {"build", build},
  };
  return out;
}

Status get_string(const json& obj, const char* key, std::string& out) {
  if (!obj.contains(key)) return {};
  if (!obj[key].is_string()) return error(std::string("manifest: '") + key + "' is not a string");
  out = obj[key].get<std::string>();
  return {};
}

Status get_strings(const json& obj, const char* key, std::vector<std::string>& out) {
  if (!obj.contains(key)) return {};
  const json& v = obj[key];
  if (!v.is_array()) return error(std::string("manifest: '") + key + "' is not an array");
  for (const json& s : v) {
    if (!s.is_string()) return error(std::string("manifest: '") + key + "' holds a non-string");
    out.push_back(s.get<std::string>());
  }
  return {};
}

Status get_map(const json& obj, const char* key, std::map<std::string, std::string>& out) {
  if (!obj.contains(key)) return {};
  const json& v = obj[key];
  if (!v.is_object()) return error(std::string("manifest: '") + key + "' is not an object");
  for (const auto& [k, s] : v.items()) {
    if (!s.is_string()) return error(std::string("manifest: '") + key + "." + k + "' is not a string");
    out[k] = s.get<std::string>();
  }
  return {};
}

Result<Manifest> from_value(const json& v) {
  if (!v.is_object()) return error("manifest: not a JSON object");
  Manifest m;
  for (auto [key, field] : {std::pair{"name", &m.name},
                            {"version", &m.version},
                            {"workdir", &m.workdir},
                            {"hostname", &m.hostname},
                            {"args", &m.args},
                            {"user", &m.user}})
    if (auto ok = get_string(v, key, *field); !ok) return ok.error();
  for (auto [key, field] : {std::pair{"entrypoint", &m.entrypoint}, {"cmd", &m.cmd}})
    if (auto ok = get_strings(v, key, *field); !ok) return ok.error();
  for (auto [key, field] : {std::pair{"env", &m.env}, {"labels", &m.labels}})
    if (auto ok = get_map(v, key, *field); !ok) return ok.error();
  if (v.contains("build")) {
    const json& b = v["build"];
    if (!b.is_object()) return error("manifest: 'build' is not an object");
    if (auto ok = get_string(b, "havre_version", m.build.havre_version); !ok) return ok.error();
    if (auto ok = get_string(b, "created", m.build.created); !ok) return ok.error();
    if (b.contains("bases")) {
      if (!b["bases"].is_array()) return error("manifest: 'build.bases' is not an array");
      for (const json& e : b["bases"]) {
        if (!e.is_object()) return error("manifest: 'build.bases' holds a non-object");
        Base base;
        for (auto [key, field] :
             {std::pair{"kind", &base.kind}, {"source", &base.source}, {"sha256", &base.sha256}})
          if (auto ok = get_string(e, key, *field); !ok) return ok.error();
        m.build.bases.push_back(std::move(base));
      }
    }
  }
  return m;
}

}  // namespace

std::string to_json(const Manifest& m) { return to_value(m).dump(2) + "\n"; }

std::string to_json_value(const Manifest& m) { return to_value(m).dump(2); }

bool is_valid_utf8(std::string_view text) {
  // The serializer is the judge: it throws type_error 316 on exactly the bytes it cannot write.
  try {
    (void)json(std::string(text)).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

Result<Manifest> from_json(std::string_view text) {
  json v = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) return error("manifest: not valid JSON");
  return from_value(v);
}

Result<std::pair<Manifest, size_t>> from_json_prefix(std::string_view text) {
  if (text.empty() || text.front() != '{') return error("manifest: not found after the image");
  // operator>> parses exactly one value and stops right after it, leaving the rest unread.
  std::istringstream in{std::string(text)};
  json v;
  try {
    in >> v;
  } catch (const json::exception& e) {
    return error(std::string("manifest: not valid JSON: ") + e.what());
  }
  const std::streamoff end = in.tellg();
  auto m = from_value(v);
  if (!m) return m.error();
  return std::pair{std::move(*m), end < 0 ? text.size() : static_cast<size_t>(end)};
}

}  // namespace havre::manifest
