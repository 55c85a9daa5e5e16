#include "format/keys.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include "secret_key.h"
#include "test_util.h"

namespace havre {
namespace {

std::string parse_public_error(const std::string& text) {
  auto key = keys::parse_public_key(text, "k.pub");
  REQUIRE_FALSE(key);
  return key.error().message();
}

std::string parse_secret_error(const std::string& text) {
  auto key = keys::parse_secret_key(text, "k.key");
  REQUIRE_FALSE(key);
  return key.error().message();
}

}  // namespace

TEST_CASE("keys: formats round-trip") {
  const signature::SecretKey sk = test::new_secret_key();
  const signature::PublicKey pk = signature::public_key_of(sk);
  const std::string pub = keys::format_public_key(pk, "release key");
  CHECK(pub.rfind("havre-ed25519 ", 0) == 0);
  CHECK(pub.size() == 14 + 44 + 12 + 1);
  CHECK(pub.substr(pub.size() - 13) == " release key\n");
  auto parsed = keys::parse_public_key(pub, "k.pub");
  REQUIRE_MESSAGE(parsed, parsed.error().message());
  CHECK(*parsed == pk);
  auto no_comment = keys::parse_public_key(keys::format_public_key(pk, ""), "k.pub");
  REQUIRE(no_comment);
  CHECK(*no_comment == pk);

  const std::string sec = keys::format_secret_key(sk);
  CHECK(sec.rfind("havre-ed25519-secret ", 0) == 0);
  CHECK(sec.size() == 21 + 88 + 1);
  auto parsed_sk = keys::parse_secret_key(sec, "k.key");
  REQUIRE_MESSAGE(parsed_sk, parsed_sk.error().message());
  CHECK(*parsed_sk == sk);
  // Without the final newline too.
  CHECK(keys::parse_secret_key(sec.substr(0, sec.size() - 1), "k.key"));
  CHECK(keys::key_id_hex(pk).size() == 16);
}

TEST_CASE("keys: bad public key files are refused, naming the file") {
  const signature::SecretKey sk = test::new_secret_key();
  const std::string pub = keys::format_public_key(signature::public_key_of(sk), "");  // "...=\n"
  const std::string b64 = pub.substr(14, 44);
  CHECK(parse_public_error("") == "public key file k.pub: empty file");
  CHECK(parse_public_error("ssh-ed25519 " + b64 + "\n") ==
        "public key file k.pub: does not start with 'havre-ed25519 ' (not a havre public key)");
  CHECK(parse_public_error(keys::format_secret_key(sk)) ==
        "public key file k.pub: this is a secret key (pass the .pub file, never the .key file)");
  CHECK(parse_public_error("havre-ed25519 " + b64.substr(0, 43) + "\n") ==
        "public key file k.pub: the key is 43 base64 characters, expected 44");
  CHECK(parse_public_error("havre-ed25519 " + b64.substr(0, 43) + "!\n") ==
        "public key file k.pub: the key is not valid base64");
  CHECK(parse_public_error("havre-ed25519 " + b64.substr(0, 43) + "A\n") ==
        "public key file k.pub: the key is not valid base64");  // 33 bytes' worth, no padding
  CHECK(parse_public_error(pub + pub) == "public key file k.pub: more than one line");
  CHECK(parse_public_error(pub.substr(0, pub.size() - 1) + "\r\n") ==
        "public key file k.pub: control character in the line (e.g. a CR line ending)");
  CHECK(parse_public_error("havre-ed25519 " + b64 + " \n") ==
        "public key file k.pub: a space after the key must be followed by a comment");
  CHECK(parse_public_error("havre-ed25519  " + b64 + "\n") ==
        "public key file k.pub: the key is 0 base64 characters, expected 44");
  CHECK(parse_public_error(std::string("havre-ed25519 ") + b64 + std::string("\0", 1)) ==
        "public key file k.pub: control character in the line (e.g. a CR line ending)");
}

TEST_CASE("keys: bad secret key files are refused, naming the file") {
  const signature::SecretKey sk = test::new_secret_key();
  const std::string sec = keys::format_secret_key(sk);
  CHECK(parse_secret_error(keys::format_public_key(signature::public_key_of(sk), "x")) ==
        "secret key file k.key: this is a public key (signing needs the .key file)");
  CHECK(parse_secret_error("havre-ed25519-secret AAAA\n") ==
        "secret key file k.key: the key is 4 base64 characters, expected 88");
  CHECK(parse_secret_error(sec + "trailing") == "secret key file k.key: more than one line");
  CHECK(parse_secret_error("garbage\n") ==
        "secret key file k.key: does not start with 'havre-ed25519-secret ' (not a havre secret key)");
  // The public half of another key pair after this seed.
  signature::SecretKey mixed = sk;
  const signature::PublicKey other = signature::public_key_of(test::new_secret_key());
  std::copy(other.begin(), other.end(), mixed.begin() + 32);
  CHECK(parse_secret_error(keys::format_secret_key(mixed)) ==
        "secret key file k.key: damaged (its public half does not belong to its seed)");
}

TEST_CASE("keys: loading files") {
  auto dir = test::temp_dir();
  const signature::SecretKey sk = test::new_secret_key();
  const std::string key_path = dir.path() + "/k.key", pub_path = dir.path() + "/k.pub";
  test::write_file(key_path, keys::format_secret_key(sk));
  test::write_file(pub_path, keys::format_public_key(signature::public_key_of(sk), "c"));
  REQUIRE(::chmod(key_path.c_str(), 0600) == 0);
  auto loaded = keys::load_secret_key(key_path);
  REQUIRE_MESSAGE(loaded, loaded.error().message());
  CHECK(*loaded == sk);
  auto pub = keys::load_public_key(pub_path);
  REQUIRE_MESSAGE(pub, pub.error().message());
  CHECK(*pub == signature::public_key_of(sk));

  SUBCASE("a secret key others may read is refused") {
    REQUIRE(::chmod(key_path.c_str(), 0644) == 0);
    auto open = keys::load_secret_key(key_path);
    REQUIRE_FALSE(open);
    CHECK(open.error().message() ==
          "secret key file " + key_path + ": mode 0644 lets others read it (chmod 600 " + key_path + ")");
  }
  SUBCASE("a missing file") {
    auto missing = keys::load_public_key(dir.path() + "/none.pub");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message() ==
          "public key file: open " + dir.path() + "/none.pub: No such file or directory");
  }
  SUBCASE("a huge file") {
    test::write_file(pub_path, std::string(5000, 'a'));
    auto huge = keys::load_public_key(pub_path);
    REQUIRE_FALSE(huge);
    CHECK(huge.error().message() == "public key file " + pub_path + ": too large to be a key file");
  }
}

}  // namespace havre
