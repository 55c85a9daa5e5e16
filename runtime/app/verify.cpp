#include "app/verify.h"

#include <cstdio>
#include <cstdlib>
#include <tuple>

#include "base/log.h"
#include "base/sha256.h"
#include "format/keys.h"

namespace havre::runtime {
namespace {

// The footer as written at the end of the file, with its signature block when it says it has one.
struct Trailer {
  footer::Footer footer;
  signature::FoundBlock found;
};

Result<Trailer> read_trailer(const Appliance& app) {
  auto f = footer::read_from(app.fd.get(), app.path);
  if (!f) return f.error();
  return Trailer{*f, signature::find_block(app.fd.get(), app.path, app.file_size, *f)};
}

// "" when the signature is what `key` asks for (any valid one, or none, without a key); else why not.
// `status` receives the line verify prints.
std::string check_signature(const Trailer& t, const std::optional<RequiredKey>& key, std::string& status) {
  const std::string wanted =
      key ? " (--key " + key->path + ", key id " + keys::key_id_hex(key->key) + ")" : "";
  if (!t.footer.is_signed()) {
    status = key ? "MISSING: not signed" : "none (not signed)";
    return key ? "not signed, and a signature by the key" + wanted + " is required" : "";
  }
  if (!t.found.block) {
    status = "DAMAGED: " + t.found.problem;
    return "the signature block is unusable: " + t.found.problem;
  }
  const std::string signer = keys::key_id_hex(t.found.block->public_key);
  if (!signature::verify(*t.found.block, footer::encode(t.footer))) {
    status = "INVALID: the signature by key id " + signer + " does not match the footer";
    return "the signature by key id " + signer + " is INVALID (the footer, or the signature, was changed)";
  }
  if (key && t.found.block->public_key != key->key) {
    status = "WRONG KEY: valid, but by key id " + signer + ", not by the key" + wanted;
    return "signed by key id " + signer + ", not by the key" + wanted;
  }
  status = "ok: valid ed25519 signature by key id " + signer + (key ? ", the --key " + key->path : "");
  return "";
}

// Hashes one region; `status` receives the line verify prints. "" when it matches.
Result<std::string> check_region(const Appliance& app, const std::string& what, std::uint64_t offset,
                                 std::uint64_t size, const Digest& expected, std::string& status) {
  log::debug("hashing the %s (%llu bytes)", what.c_str(), static_cast<unsigned long long>(size));
  auto actual = sha256_fd_range(app.fd.get(), offset, size, app.path);
  if (!actual) return actual.error().wrap("hashing the " + what);
  const std::string where = " (" + std::to_string(size) + " bytes at offset " + std::to_string(offset) + ")";
  if (*actual == expected) {
    status = "ok: sha256 " + to_hex(*actual) + where;
    return std::string();
  }
  status = "MISMATCH: sha256 " + to_hex(*actual) + where + ", the footer says " + to_hex(expected);
  return what + " does not match its sha256 in the footer (tampered with or damaged)";
}

void add_line(std::string& report, const std::string& key, const std::string& value) {
  report += key + std::string(key.size() < 11 ? 11 - key.size() : 1, ' ') + value + "\n";
}

}  // namespace

Result<Verification> verify_appliance(const Appliance& app, const std::optional<RequiredKey>& key) {
  Verification v;
  auto t = read_trailer(app);
  if (!t) {
    // Without a footer there is nothing to check the bytes against.
    add_line(v.report, "footer", "UNUSABLE: " + t.error().message());
    v.failures.push_back("the footer is unusable (" + t.error().message() + ")");
    return v;
  }
  add_line(
      v.report, "footer",
      "ok: format version " + std::to_string(t->footer.version) + (t->footer.is_signed() ? ", signed" : ""));
  std::string status;
  auto image = check_region(app, "image", t->footer.image_offset, t->footer.image_size,
                            t->footer.image_sha256, status);
  if (!image) return image.error();
  add_line(v.report, "image", status);
  if (!image->empty()) v.failures.push_back(*image);
  auto manifest = check_region(app, "manifest", t->footer.manifest_offset, t->footer.manifest_size,
                               t->footer.manifest_sha256, status);
  if (!manifest) return manifest.error();
  add_line(v.report, "manifest", status);
  if (!manifest->empty()) v.failures.push_back(*manifest);
  const std::string sig = check_signature(*t, key, status);
  add_line(v.report, "signature", status);
  if (!sig.empty()) v.failures.push_back(sig);
  add_line(v.report, v.ok() ? "verified" : "FAILED", app.path);
  return v;
}

Status require_signature(const Appliance& app, const RequiredKey& key) {
  const std::string refusing = "refusing to run " + app.path + ": --require-signature";
  auto t = read_trailer(app);
  if (!t) return error(refusing + ": the footer is unusable (" + t.error().message() + ")");
  std::string status;
  if (std::string why = check_signature(*t, key, status); !why.empty()) return error(refusing + ": " + why);
  log::debug("signature ok; hashing the image and the manifest");
  for (auto [what, offset, size, digest] :
       {std::tuple{"image", t->footer.image_offset, t->footer.image_size, t->footer.image_sha256},
        std::tuple{"manifest", t->footer.manifest_offset, t->footer.manifest_size,
                   t->footer.manifest_sha256}}) {
    auto why = check_region(app, what, offset, size, digest, status);
    if (!why) return why.error().wrap(refusing);
    if (!why->empty()) return error(refusing + ": " + *why);
  }
  // What runs must be what the footer (and so the signature) describes, not a scan's guess.
  if (app.located_by != LocatedBy::kFooter)
    return error(refusing + ": the signed footer is unusable (" + app.footer_problem + ")");
  log::debug("signature and hashes ok");
  return {};
}

Result<int> verify_command(const Appliance& app, const std::string& key_file) {
  std::optional<RequiredKey> key;
  if (!key_file.empty()) {
    auto loaded = keys::load_public_key(key_file);
    if (!loaded) return loaded.error().wrap("verify --key");
    key = RequiredKey{*loaded, key_file};
  }
  auto v = verify_appliance(app, key);
  if (!v) return v.error();
  std::fputs(v->report.c_str(), stdout);
  std::fflush(stdout);
  if (v->ok()) return 0;
  std::string why;
  for (const std::string& f : v->failures) why += (why.empty() ? "" : "; ") + f;
  log::error("verification failed: %s: %s", app.path.c_str(), why.c_str());
  return 1;
}

Status check_required_signature(const Appliance& app, std::string key_file) {
  if (key_file.empty()) {
    const char* env = std::getenv("HAVRE_REQUIRE_SIGNATURE");
    if (env == nullptr || *env == '\0') return {};
    key_file = env;
  }
  auto key = keys::load_public_key(key_file);
  if (!key) return key.error().wrap("--require-signature");
  return require_signature(app, {*key, key_file});
}

}  // namespace havre::runtime
