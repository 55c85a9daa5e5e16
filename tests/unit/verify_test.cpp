#include "app/verify.h"

#include <doctest/doctest.h>

#include "base/sha256.h"
#include "format/keys.h"
#include "test_util.h"

namespace havre::runtime {
namespace {

// An appliance file: [an ELF header, zeros to 8192][a real SquashFS image, padded][manifest][signature
// block][footer].
struct Built {
  std::string file;
  std::uint64_t image_offset = 8192, manifest_offset = 0;
};

Built build(const std::string& work, const signature::SecretKey* key) {
  Built b;
  std::string body = test::minimal_elf_header();  // the scan (a manifest mismatch) needs one
  body.resize(b.image_offset, '\0');
  body += test::make_real_image(work);
  body.resize(footer::align_up(body.size(), footer::kImageAlignment), '\0');
  manifest::Manifest m;
  m.name = "signed";
  m.cmd = {"/bin/true"};
  const std::string manifest = manifest::to_json(m);
  footer::Footer f;
  f.image_offset = b.image_offset;
  f.image_size = body.size() - b.image_offset;
  f.image_sha256 = sha256(test::as_byte_span(std::string_view(body).substr(b.image_offset)));
  f.manifest_offset = b.manifest_offset = body.size();
  f.manifest_size = manifest.size();
  f.manifest_sha256 = sha256(test::as_byte_span(manifest));
  body += manifest;
  if (key)
    body += test::as_chars(signature::signed_trailer(f, *key));
  else
    body += test::as_chars(footer::encode(f));
  b.file = body;
  return b;
}

Appliance opened(const std::string& path) {
  auto a = open_appliance(path);
  if (!a) FAIL(a.error().message());
  return std::move(*a);
}

// The signature block as info and verify read it.
signature::FoundBlock found(const Appliance& a) {
  REQUIRE(a.footer.has_value());
  return signature::find_block(a.fd.get(), a.path, a.file_size, *a.footer);
}

Verification verified(const std::string& path, const std::optional<RequiredKey>& key) {
  auto v = verify_appliance(opened(path), key);
  if (!v) FAIL(v.error().message());
  return std::move(*v);
}

std::string failures(const Verification& v) {
  std::string out;
  for (const std::string& f : v.failures) out += f + "\n";
  return out;
}

}  // namespace

TEST_CASE("verify: unsigned and signed appliances, intact and tampered with") {
  auto dir = test::temp_dir();
  const signature::SecretKey key = test::new_secret_key();
  const RequiredKey right{signature::public_key_of(key), "right.pub"};
  const RequiredKey wrong{signature::public_key_of(test::new_secret_key()), "wrong.pub"};
  const std::string path = dir.path() + "/app";

  SUBCASE("unsigned, intact") {
    const Built b = build(dir.path(), nullptr);
    test::write_file(path, b.file);
    const Verification v = verified(path, std::nullopt);
    CHECK_MESSAGE(v.ok(), failures(v));
    CHECK(v.report.find("image      ok: sha256 ") != std::string::npos);
    CHECK(v.report.find("manifest   ok: sha256 ") != std::string::npos);
    CHECK(v.report.find("signature  none (not signed)\n") != std::string::npos);
    CHECK(v.report.find("verified   " + path) != std::string::npos);
    CHECK_FALSE(found(opened(path)).block.has_value());

    const Verification with_key = verified(path, right);
    REQUIRE_FALSE(with_key.ok());
    CHECK(failures(with_key) == "not signed, and a signature by the key (--key right.pub, key id " +
                                    keys::key_id_hex(right.key) + ") is required\n");
    auto refused = require_signature(opened(path), right);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message() == "refusing to run " + path +
                                           ": --require-signature: not signed, and a signature by the key "
                                           "(--key right.pub, key id " +
                                           keys::key_id_hex(right.key) + ") is required");
  }
  SUBCASE("signed, intact") {
    const Built b = build(dir.path(), &key);
    test::write_file(path, b.file);
    const Appliance app = opened(path);
    CHECK(app.located_by == LocatedBy::kFooter);
    const signature::FoundBlock sig = found(app);
    REQUIRE(sig.block.has_value());
    CHECK(sig.block->public_key == right.key);
    CHECK(verified(path, std::nullopt).ok());
    const Verification v = verified(path, right);
    CHECK_MESSAGE(v.ok(), failures(v));
    CHECK(v.report.find("signature  ok: valid ed25519 signature by key id " + keys::key_id_hex(right.key)) !=
          std::string::npos);
    CHECK(require_signature(app, right));

    const Verification other = verified(path, wrong);
    CHECK(failures(other) == "signed by key id " + keys::key_id_hex(right.key) +
                                 ", not by the key (--key wrong.pub, key id " + keys::key_id_hex(wrong.key) +
                                 ")\n");
    CHECK_FALSE(require_signature(app, wrong));
  }
  SUBCASE("a flipped byte in the image") {
    Built b = build(dir.path(), &key);
    b.file[b.image_offset + 200] ^= 1;
    test::write_file(path, b.file);
    const Verification v = verified(path, right);
    CHECK(failures(v) == "image does not match its sha256 in the footer (tampered with or damaged)\n");
    CHECK(v.report.find("image      MISMATCH: sha256 ") != std::string::npos);
    CHECK(v.report.find("signature  ok") != std::string::npos);  // the footer itself is intact
    CHECK(v.report.find("FAILED     " + path) != std::string::npos);
    auto refused = require_signature(opened(path), right);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message() == "refusing to run " + path +
                                           ": --require-signature: image does not match its sha256 in the "
                                           "footer (tampered with or damaged)");
  }
  SUBCASE("a flipped byte in the manifest") {
    Built b = build(dir.path(), &key);
    b.file[b.manifest_offset + 5] ^= 1;
    test::write_file(path, b.file);
    const Verification v = verified(path, std::nullopt);
    CHECK(failures(v) == "manifest does not match its sha256 in the footer (tampered with or damaged)\n");
    CHECK(v.report.find("manifest   MISMATCH") != std::string::npos);
    CHECK_FALSE(require_signature(opened(path), right));
  }
  SUBCASE("a flipped byte in the signature") {
    Built b = build(dir.path(), &key);
    b.file[b.file.size() - 128 - 128 + 60] ^= 1;
    test::write_file(path, b.file);
    const Verification v = verified(path, right);
    CHECK(failures(v) == "the signature by key id " + keys::key_id_hex(right.key) +
                             " is INVALID (the footer, or the signature, was changed)\n");
    CHECK(v.report.find("image      ok") != std::string::npos);
    CHECK_FALSE(require_signature(opened(path), right));
  }
  SUBCASE("a damaged signature block leaves the footer usable") {
    Built b = build(dir.path(), &key);
    b.file[b.file.size() - 256] ^= 1;  // its magic
    test::write_file(path, b.file);
    const Appliance app = opened(path);
    CHECK(app.located_by == LocatedBy::kFooter);
    CHECK(found(app).problem == "signature block: bad magic");
    const Verification v = verified(path, std::nullopt);
    CHECK(failures(v) == "the signature block is unusable: signature block: bad magic\n");
  }
  SUBCASE("the signed flag cleared (a resealed footer) leaves the manifest ending in the wrong place") {
    Built b = build(dir.path(), &key);
    auto f = footer::decode(test::as_byte_span(std::string_view(b.file).substr(b.file.size() - 128)));
    REQUIRE(f);
    f->flags = 0;
    b.file = b.file.substr(0, b.file.size() - 128) + std::string(test::as_chars(footer::encode(*f)));
    test::write_file(path, b.file);
    auto v = verify_appliance(opened(path), right);
    REQUIRE(v);
    CHECK(v->report.find("footer     UNUSABLE: footer: manifest") != std::string::npos);
    CHECK_FALSE(v->ok());
  }
}

}  // namespace havre::runtime
