#include "secret_key.h"

#include <sodium.h>
#include <sys/stat.h>

#include <array>
#include <cstdio>

#include "format/keys.h"

namespace havre::keys {

Result<signature::SecretKey> parse_secret_key(std::string_view text, const std::string& path) {
  const std::string what = "secret key file " + path;
  auto line = one_line(text, what);
  if (!line) return line.error();
  if (line->rfind(kPublicPrefix, 0) == 0)
    return error(what + ": this is a public key (signing needs the .key file)");
  if (line->rfind(kSecretPrefix, 0) != 0)
    return error(what + ": does not start with '" + std::string(kSecretPrefix) +
                 "' (not a havre secret key)");
  Result<signature::SecretKey> key = signature::SecretKey{};
  if (auto ok = decode_base64(line->substr(kSecretPrefix.size()), *key, what); !ok) return ok.error();
  // libsodium's secret key is seed || public key: the two halves must belong together.
  signature::PublicKey derived;
  std::array<std::uint8_t, 64> scratch;
  crypto_sign_seed_keypair(derived.data(), scratch.data(), key->data());
  sodium_memzero(scratch.data(), scratch.size());
  if (derived != signature::public_key_of(*key))
    return error(what + ": damaged (its public half does not belong to its seed)");
  return key;
}

std::string format_secret_key(const signature::SecretKey& key) {
  return std::string(kSecretPrefix) + encode_base64(key) + "\n";
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

}  // namespace havre::keys
