#include "format/keys.h"

#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <vector>

#include "base/io.h"
#include "base/sha256.h"
#include "base/unique_fd.h"

namespace havre::keys {
namespace {

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// A key file is one short line; anything much longer is not one.
constexpr size_t kMaxFileSize = 4096;

}  // namespace


Result<std::string_view> one_line(std::string_view text, const std::string& what) {
  if (text.empty()) return error(what + ": empty file");
  if (text.back() == '\n') text.remove_suffix(1);
  if (text.find('\n') != std::string_view::npos) return error(what + ": more than one line");
  if (std::any_of(text.begin(), text.end(), is_control))
    return error(what + ": control character in the line (e.g. a CR line ending)");
  return text;
}


Result<std::string> read_key_file(const std::string& path, const std::string& what, mode_t* mode) {
  auto fd = open_fd(path, O_RDONLY);
  if (!fd) return fd.error().wrap(what);
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return sys_error(what + ": stat " + path);
  *mode = st.st_mode;
  std::string text(kMaxFileSize + 1, '\0');
  auto n = pread_some(fd->get(), std::as_writable_bytes(std::span(text)), 0, path);
  if (!n) return n.error().wrap(what);
  if (*n > kMaxFileSize) return error(what + " " + path + ": too large to be a key file");
  text.resize(*n);
  return text;
}

Status decode_base64(std::string_view b64, std::span<std::uint8_t> out, const std::string& what) {
  const size_t want = sodium_base64_ENCODED_LEN(out.size(), sodium_base64_VARIANT_ORIGINAL) - 1;
  if (b64.size() != want)
    return error(what + ": the key is " + std::to_string(b64.size()) + " base64 characters, expected " +
                 std::to_string(want));
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), b64.data(), b64.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len != out.size() || end != b64.data() + b64.size())
    return error(what + ": the key is not valid base64");
  return {};
}

std::string encode_base64(std::span<const std::uint8_t> bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // the NUL
  return out;
}


Result<signature::PublicKey> parse_public_key(std::string_view text, const std::string& path) {
  const std::string what = "public key file " + path;
  auto line = one_line(text, what);
  if (!line) return line.error();
  if (line->rfind(kSecretPrefix, 0) == 0)
    return error(what + ": this is a secret key (pass the .pub file, never the .key file)");
  if (line->rfind(kPublicPrefix, 0) != 0)
    return error(what + ": does not start with '" + std::string(kPublicPrefix) +
                 "' (not a havre public key)");
  std::string_view rest = line->substr(kPublicPrefix.size());
  const size_t space = rest.find(' ');
  if (space != std::string_view::npos && space + 1 == rest.size())
    return error(what + ": a space after the key must be followed by a comment");
  signature::PublicKey key{};
  if (auto ok = decode_base64(rest.substr(0, space), key, what); !ok) return ok.error();
  return key;
}

std::string format_public_key(const signature::PublicKey& key, std::string_view comment) {
  std::string out = std::string(kPublicPrefix) + encode_base64(key);
  if (!comment.empty()) out += " " + std::string(comment);
  return out + "\n";
}

Status check_comment(std::string_view comment) {
  if (std::any_of(comment.begin(), comment.end(), is_control))
    return error("key comment: control characters are not allowed");
  return {};
}

Result<signature::PublicKey> load_public_key(const std::string& path) {
  mode_t mode = 0;
  auto text = read_key_file(path, "public key file", &mode);
  if (!text) return text.error();
  return parse_public_key(*text, path);
}

std::string key_id_hex(const signature::PublicKey& key) { return to_hex(signature::key_id(key)); }

}  // namespace havre::keys
