// libFuzzer target: the footer, manifest and signature block decoders (runtime/format/footer.*,
// manifest.*, signature.*) and the key file parsers (keys.*), the bytes every appliance ends with and the
// first thing the runtime reads from an untrusted file.
//
// Input: [control u8][file size u64 LE][manifest bytes][footer, the last 128 bytes]
//   control: fuzz::kFixChecksum / kFixManifest (fuzz_util.h) repair the footer before decoding, so
//   mutations of its fields reach the checks behind the SHA-256 checksum.
//   file size: what decode_for_file() checks the footer's offsets and sizes against; the input stands
//   for the end of such a file (the manifest ends where the footer starts).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "format/footer.h"
#include "format/keys.h"
#include "secret_key.h"
#include "format/manifest.h"
#include "format/signature.h"
#include "fuzz_util.h"

namespace {

using namespace havre;

void footer_checks(std::span<const std::byte> tail, std::uint64_t file_size) {
  auto f = footer::decode(tail);
  // Every footer byte is a field, a checksum or the magic: what decodes must re-encode to itself.
  if (f) {
    const auto again = footer::encode(*f);
    HAVRE_FUZZ_CHECK(std::memcmp(again.data(), tail.last(footer::kSize).data(), footer::kSize) == 0);
  }
  auto checked = footer::decode_for_file(tail, file_size);
  if (!checked) return;
  HAVRE_FUZZ_CHECK(f);
  // What the runtime relies on once the footer is accepted: aligned image, image then manifest then
  // footer, nothing outside the file.
  HAVRE_FUZZ_CHECK(file_size >= footer::kSize);
  const std::uint64_t footer_at = file_size - footer::kSize;
  HAVRE_FUZZ_CHECK(checked->image_offset > 0 && checked->image_offset % footer::kImageAlignment == 0);
  HAVRE_FUZZ_CHECK(checked->image_size > 0 && checked->image_size % footer::kImageAlignment == 0);
  HAVRE_FUZZ_CHECK(checked->image_offset <= footer_at &&
                   checked->image_size <= footer_at - checked->image_offset);
  HAVRE_FUZZ_CHECK(checked->manifest_offset >= checked->image_offset + checked->image_size);
  // A signed appliance has its signature block between the manifest and the footer.
  const std::uint64_t manifest_end = footer_at - (checked->is_signed() ? footer::kSignatureBlockSize : 0);
  HAVRE_FUZZ_CHECK(footer_at >= (checked->is_signed() ? footer::kSignatureBlockSize : 0));
  HAVRE_FUZZ_CHECK(checked->manifest_offset <= manifest_end);
  HAVRE_FUZZ_CHECK(checked->manifest_size == manifest_end - checked->manifest_offset);
}

void manifest_checks(std::string_view text) {
  // Exact text, as the footer path reads it: serializing what parsed gives text that parses to the same.
  if (auto m = manifest::from_json(text)) {
    const std::string json = manifest::to_json(*m);
    auto again = manifest::from_json(json);
    HAVRE_FUZZ_CHECK(again);
    HAVRE_FUZZ_CHECK(manifest::to_json(*again) == json);
    (void)manifest::to_json_value(*m);
  }
  // The first value of the text, as the scan path reads whatever follows the image.
  if (auto p = manifest::from_json_prefix(text)) {
    HAVRE_FUZZ_CHECK(p->second > 0 && p->second <= text.size());
    auto alone = manifest::from_json(text.substr(0, p->second));
    HAVRE_FUZZ_CHECK(alone);
    HAVRE_FUZZ_CHECK(manifest::to_json(*alone) == manifest::to_json(p->first));
  }
}

// A signed appliance has its signature block just before the footer; key files are one line of text.
void signature_checks(std::span<const std::byte> file) {
  if (file.size() >= signature::kBlockSize + footer::kSize) {
    const auto bytes =
        file.subspan(file.size() - footer::kSize - signature::kBlockSize, signature::kBlockSize);
    if (auto block = signature::decode(bytes)) {
      const auto again = signature::encode(*block);
      HAVRE_FUZZ_CHECK(std::memcmp(again.data(), bytes.data(), signature::kBlockSize) == 0);
      (void)signature::verify(*block, file.last(footer::kSize));
    }
  }
  const std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
  (void)keys::parse_public_key(text, "fuzz.pub");
  (void)keys::parse_secret_key(text, "fuzz.key");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  const std::uint8_t control = in.u8();
  const std::uint64_t file_size = in.u64();
  const std::span<const std::byte> rest = in.rest();
  std::vector<std::byte> file(rest.begin(), rest.end());

  const size_t manifest_size = file.size() >= footer::kSize ? file.size() - footer::kSize : file.size();
  if (file.size() >= footer::kSize) {
    // The manifest's first byte sits at this offset of the (virtual) file when file_size is right.
    const std::uint64_t manifest_at = file_size >= file.size() ? file_size - file.size() : 0;
    fuzz::fix_footer(file, manifest_at, control);
  }
  footer_checks(file, file_size);
  manifest_checks(std::string_view(reinterpret_cast<const char*>(file.data()), manifest_size));
  signature_checks(file);
  return 0;
}
