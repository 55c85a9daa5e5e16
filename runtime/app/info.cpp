#include "app/info.h"

#include <nlohmann/json.hpp>

#include "base/sha256.h"
#include "format/keys.h"
#include "format/signature.h"
#include "version.h"

namespace havre::runtime {
namespace {

using nlohmann::json;

// The signature block, read here (never at start-up); nothing when not located by a signed footer.
signature::FoundBlock signature_of(const Appliance& a) {
  if (!a.footer) return {};
  return signature::find_block(a.fd.get(), a.path, a.file_size, *a.footer);
}

json signature_json(const signature::FoundBlock& found) {
  if (!found.block) return nullptr;
  std::string pub = keys::format_public_key(found.block->public_key, "");
  pub.pop_back();  // the newline
  return {{"algorithm", "ed25519"},
          {"key_id", keys::key_id_hex(found.block->public_key)},
          {"public_key", pub.substr(keys::kPublicPrefix.size())}};
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

std::string info_json(const Appliance& a) {
  const bool by_footer = a.located_by == LocatedBy::kFooter;
  const signature::FoundBlock found = signature_of(a);
  json j{
      {"path", a.path},
      {"file_size", a.file_size},
      {"located_by", by_footer ? "footer" : "scan"},
      {"format_version", by_footer ? json(a.footer->version) : json(nullptr)},
      {"image_offset", a.image_offset},
      {"image_size", a.image_size},
      {"image_sha256", by_footer ? json(to_hex(a.footer->image_sha256)) : json(nullptr)},
      {"manifest_offset", a.manifest ? json(a.manifest_offset) : json(nullptr)},
      {"manifest_size", a.manifest ? json(a.manifest_size) : json(nullptr)},
      {"manifest_sha256", by_footer ? json(to_hex(a.footer->manifest_sha256)) : json(nullptr)},
      {"signed", by_footer && a.footer->is_signed()},
      {"signature", signature_json(found)},
      {"runtime_version", kVersion},
      {"squashfs",
       {{"compression", squashfs::compression_name(a.superblock.compression)},
        {"block_size", a.superblock.block_size},
        {"inodes", a.superblock.inodes},
        {"bytes_used", a.superblock.bytes_used},
        {"mkfs_time", a.superblock.mkfs_time}}},
      {"manifest", a.manifest ? json::parse(manifest::to_json(*a.manifest)) : json(nullptr)},
  };
  if (!by_footer) j["footer_problem"] = a.footer_problem;
  if (!a.manifest) j["manifest_problem"] = a.manifest_problem;
  if (!found.problem.empty()) j["signature_problem"] = found.problem;
  return j.dump(2) + "\n";
}

std::string info_text(const Appliance& a) {
  std::string out;
  auto line = [&out](const std::string& key, const std::string& value) {
    if (!value.empty()) out += key + std::string(key.size() < 14 ? 14 - key.size() : 1, ' ') + value + "\n";
  };
  line("appliance", a.path + " (" + std::to_string(a.file_size) + " bytes)");
  if (a.located_by == LocatedBy::kFooter)
    line("located by", "footer (format version " + std::to_string(a.footer->version) + ")");
  else
    line("located by", "scan -- footer unusable: " + a.footer_problem);
  line("image", "offset " + std::to_string(a.image_offset) + ", " + std::to_string(a.image_size) + " bytes");
  if (a.footer) line("image sha256", to_hex(a.footer->image_sha256));
  const signature::FoundBlock found = signature_of(a);
  if (found.block)
    line("signature", "ed25519, key id " + keys::key_id_hex(found.block->public_key) +
                          " (not checked here: ./app verify --key PUB)");
  else if (!found.problem.empty())
    line("signature", "DAMAGED: " + found.problem);
  else if (a.footer)
    line("signature", "none");
  line("squashfs", "4.0, " + squashfs::compression_name(a.superblock.compression) + ", block size " +
                       std::to_string(a.superblock.block_size) + ", " + std::to_string(a.superblock.inodes) +
                       " inodes");
  if (!a.manifest) {
    line("manifest", "none: " + a.manifest_problem);
  } else {
    const manifest::Manifest& m = *a.manifest;
    line("manifest",
         "offset " + std::to_string(a.manifest_offset) + ", " + std::to_string(a.manifest_size) + " bytes");
    line("name", m.name);
    line("version", m.version);
    line("entrypoint", join(m.entrypoint));
    line("cmd", join(m.cmd));
    for (const auto& [k, v] : m.env) line("env", k + "=" + v);
    line("workdir", m.workdir);
    line("hostname", m.hostname);
    for (const auto& [k, v] : m.labels) line("label", k + "=" + v);
    for (const manifest::Base& b : m.build.bases)
      line("base", b.kind + " " + b.source + (b.sha256.empty() ? "" : " sha256:" + b.sha256));
    line("built",
         (m.build.created.empty() ? "" : m.build.created + " ") + "by havre " + m.build.havre_version);
  }
  line("runtime", std::string("havre ") + kVersion);
  return out;
}

}  // namespace havre::runtime
