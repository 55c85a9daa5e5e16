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

// A key file is one short line; anything much longer is not one.
constexpr size_t kMaxFileSize = 4096;

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// The line without its final "\n"; refuses other line breaks and control characters.
Result<std::string_view> one_line(std::string_view text, const std::string& what) {
  if (text.empty()) return error(what + ": empty file");
  if (text.back() == '\n') text.remove_suffix(1);
  if (text.find('\n') != std::string_view::npos) return error(what + ": more than one line");
  if (std::any_of(text.begin(), text.end(), is_control))
    return error(what + ": control character in the line (e.g. a CR line ending)");
  return text;
}

// Standard padded base64 (RFC 4648) of exactly N bytes, nothing else.
template <size_t N>
Result<std::array<std::uint8_t, N>> decode_base64(std::string_view b64, const std::string& what) {
  std::array<std::uint8_t, N> out{};
  if (b64.size() != sodium_base64_ENCODED_LEN(N, sodium_base64_VARIANT_ORIGINAL) - 1)
    return error(what + ": the key is " + std::to_string(b64.size()) + " base64 characters, expected " +
                 std::to_string(sodium_base64_ENCODED_LEN(N, sodium_base64_VARIANT_ORIGINAL) - 1));
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), b64.data(), b64.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len != N || end != b64.data() + b64.size())
    return error(what + ": the key is not valid base64");
  return out;
}

template <size_t N>
std::string encode_base64(const std::array<std::uint8_t, N>& bytes) {
  std::string out(sodium_base64_ENCODED_LEN(N, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // the NUL
  return out;
}

// The file's bytes (at most kMaxFileSize); `mode` receives st_mode.
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

}  // namespace

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
  return decode_base64<32>(rest.substr(0, space), what);
}

Result<signature::SecretKey> parse_secret_key(std::string_view text, const std::string& path) {
  const std::string what = "secret key file " + path;
  auto line = one_line(text, what);
  if (!line) return line.error();
  if (line->rfind(kPublicPrefix, 0) == 0)
    return error(what + ": this is a public key (signing needs the .key file)");
  if (line->rfind(kSecretPrefix, 0) != 0)
    return error(what + ": does not start with '" + std::string(kSecretPrefix) +
                 "' (not a havre secret key)");
  auto key = decode_base64<64>(line->substr(kSecretPrefix.size()), what);
  if (!key) return key.error();
  // libsodium's secret key is seed || public key: the two halves must belong together.
  signature::PublicKey derived;
  std::array<std::uint8_t, 64> scratch;
  crypto_sign_seed_keypair(derived.data(), scratch.data(), key->data());
  sodium_memzero(scratch.data(), scratch.size());
  if (derived != signature::public_key_of(*key))
    return error(what + ": damaged (its public half does not belong to its seed)");
  return key;
}

std::string format_public_key(const signature::PublicKey& key, std::string_view comment) {
  std::string out = std::string(kPublicPrefix) + encode_base64(key);
  if (!comment.empty()) out += " " + std::string(comment);
  return out + "\n";
}

std::string format_secret_key(const signature::SecretKey& key) {
  return std::string(kSecretPrefix) + encode_base64(key) + "\n";
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

Result<signature::SecretKey> load_secret_key(const std::string& path) {
  mode_t mode = 0;
  auto text = read_key_file(path, "secret key file", &mode);
  if (!text) return text.error();
  auto key = parse_secret_key(*text, path);  // first: a .pub passed by mistake is named as such
  sodium_memzero(text->data(), text->size());
  if (key && S_ISREG(mode) && (mode & 077) != 0) {
    sodium_memzero(key->data(), key->size());
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & 07777));
    return error("secret key file " + path + ": mode " + octal + " lets others read it (chmod 600 " + path +
                 ")");
  }
  return key;
}

Result<signature::SecretKey> generate_secret_key() {
  if (sodium_init() < 0) return error("libsodium failed to initialise");
  signature::PublicKey pk;
  signature::SecretKey sk;
  if (crypto_sign_keypair(pk.data(), sk.data()) != 0) return error("generating an ed25519 key pair failed");
  return sk;
}

std::string key_id_hex(const signature::PublicKey& key) { return to_hex(signature::key_id(key)); }

}  // namespace havre::keys
