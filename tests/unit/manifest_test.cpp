#include "format/manifest.h"

#include <doctest/doctest.h>

#include <string>

namespace havre {
namespace {

manifest::Manifest sample() {
  manifest::Manifest m;
  m.name = "demo";
  m.version = "1.2.3";
  m.entrypoint = {"/bin/sh", "-c"};
  m.cmd = {"echo \"hi\" && exit 3", "ünïcode", ""};
  m.env = {{"PATH", "/usr/bin:/bin"}, {"LANG", "C.UTF-8"}, {"EMPTY", ""}};
  m.workdir = "/srv";
  m.hostname = "box";
  m.labels = {{"org.example/team", "infra"}, {"a", "b\nc"}};
  m.args = "passthrough";
  m.build.havre_version = "0.1.0";
  m.build.created = "2024-05-01T12:00:00Z";
  m.build.bases = {{"tarball", "https://example.org/rootfs.tar.gz", std::string(64, 'a')},
                   {"directory", "./tree", ""}};
  return m;
}

void check_equal(const manifest::Manifest& a, const manifest::Manifest& b) {
  CHECK(a.name == b.name);
  CHECK(a.version == b.version);
  CHECK(a.entrypoint == b.entrypoint);
  CHECK(a.cmd == b.cmd);
  CHECK(a.env == b.env);
  CHECK(a.workdir == b.workdir);
  CHECK(a.hostname == b.hostname);
  CHECK(a.labels == b.labels);
  CHECK(a.args == b.args);
  CHECK(a.build.havre_version == b.build.havre_version);
  CHECK(a.build.created == b.build.created);
  REQUIRE(a.build.bases.size() == b.build.bases.size());
  for (size_t i = 0; i < a.build.bases.size(); ++i) {
    CAPTURE(i);
    CHECK(a.build.bases[i].kind == b.build.bases[i].kind);
    CHECK(a.build.bases[i].source == b.build.bases[i].source);
    CHECK(a.build.bases[i].sha256 == b.build.bases[i].sha256);
  }
}

std::string rejection(const std::string& json) {
  CAPTURE(json);
  auto out = manifest::from_json(json);
  REQUIRE_FALSE(out);
  return out.error().message();
}

}  // namespace

TEST_CASE("manifest: to_json/from_json round-trips every field") {
  const manifest::Manifest in = sample();
  auto out = manifest::from_json(manifest::to_json(in));
  REQUIRE_MESSAGE(out, out.error().message());
  check_equal(*out, in);
  CHECK(manifest::to_json(*out) == manifest::to_json(in));
}

TEST_CASE("manifest: to_json is canonical") {
  SUBCASE("an empty manifest, byte for byte: no creation time unless one was chosen") {
    CHECK(manifest::to_json(manifest::Manifest{}) ==
          "{\n"
          "  \"args\": \"\",\n"
          "  \"build\": {\n"
          "    \"bases\": [],\n"
          "    \"havre_version\": \"\"\n"
          "  },\n"
          "  \"cmd\": [],\n"
          "  \"entrypoint\": [],\n"
          "  \"env\": {},\n"
          "  \"hostname\": \"\",\n"
          "  \"labels\": {},\n"
          "  \"name\": \"\",\n"
          "  \"user\": \"\",\n"
          "  \"version\": \"\",\n"
          "  \"workdir\": \"\"\n"
          "}\n");
  }
  SUBCASE("a chosen creation time is written") {
    manifest::Manifest m;
    m.build.created = "2023-11-14T22:13:20Z";
    CHECK(manifest::to_json(m).find("    \"created\": \"2023-11-14T22:13:20Z\",\n") != std::string::npos);
  }
  SUBCASE("keys are sorted and the text ends with one newline") {
    const std::string text = manifest::to_json(sample());
    REQUIRE(text.size() > 2);
    CHECK(text.substr(text.size() - 2) == "}\n");
    size_t last = 0;
    for (const char* key : {"\"args\"", "\"build\"", "\"cmd\"", "\"entrypoint\"", "\"env\"", "\"hostname\"",
                            "\"labels\"", "\"name\"", "\"version\"", "\"workdir\""}) {
      CAPTURE(key);
      const size_t at = text.find(std::string("\n  ") + key + ":");
      REQUIRE(at != std::string::npos);
      CHECK(at > last);
      last = at;
    }
    // Nested keys too: env and the base entries.
    CHECK(text.find("\"EMPTY\"") < text.find("\"LANG\""));
    CHECK(text.find("\"LANG\"") < text.find("\"PATH\""));
    CHECK(text.find("\"kind\": \"tarball\"") < text.find("\"sha256\": \"aaaa"));
    CHECK(text.find("\"sha256\": \"aaaa") < text.find("\"source\": \"https://"));
  }
  SUBCASE("equal manifests give identical bytes, different ones do not") {
    manifest::Manifest a = sample();
    manifest::Manifest b;  // the same content, built in another order
    b.build = a.build;
    b.labels = {{"a", "b\nc"}, {"org.example/team", "infra"}};
    b.args = a.args;
    b.hostname = a.hostname;
    b.workdir = a.workdir;
    b.env["EMPTY"] = "";
    b.env["PATH"] = "/usr/bin:/bin";
    b.env["LANG"] = "C.UTF-8";
    b.cmd = a.cmd;
    b.entrypoint = a.entrypoint;
    b.version = a.version;
    b.name = a.name;
    CHECK(manifest::to_json(a) == manifest::to_json(b));
    b.cmd.push_back("x");
    CHECK(manifest::to_json(a) != manifest::to_json(b));
  }
  SUBCASE("to_json_value is the same JSON without the newline") {
    CHECK(manifest::to_json_value(sample()) + "\n" == manifest::to_json(sample()));
  }
}

TEST_CASE("manifest: from_json accepts missing and unknown keys") {
  auto out = manifest::from_json(R"({"name": "x", "from_the_future": {"a": [1, 2]}, "build": {}})");
  REQUIRE_MESSAGE(out, out.error().message());
  CHECK(out->name == "x");
  CHECK(out->cmd.empty());
  CHECK(out->env.empty());
  CHECK(out->build.bases.empty());
}

TEST_CASE("manifest: from_json rejects wrong types, naming the key") {
  CHECK(rejection(R"({"cmd": "echo"})") == "manifest: 'cmd' is not an array");
  CHECK(rejection(R"({"entrypoint": {"a": "b"}})") == "manifest: 'entrypoint' is not an array");
  CHECK(rejection(R"({"cmd": ["a", 1]})") == "manifest: 'cmd' holds a non-string");
  CHECK(rejection(R"({"name": 5})") == "manifest: 'name' is not a string");
  CHECK(rejection(R"({"version": null})") == "manifest: 'version' is not a string");
  CHECK(rejection(R"({"workdir": ["/"]})") == "manifest: 'workdir' is not a string");
  CHECK(rejection(R"({"hostname": true})") == "manifest: 'hostname' is not a string");
  CHECK(rejection(R"({"args": ["passthrough"]})") == "manifest: 'args' is not a string");
  CHECK(rejection(R"({"env": ["A=B"]})") == "manifest: 'env' is not an object");
  CHECK(rejection(R"({"env": {"A": 1}})") == "manifest: 'env.A' is not a string");
  CHECK(rejection(R"({"labels": "x"})") == "manifest: 'labels' is not an object");
  CHECK(rejection(R"({"build": 1})") == "manifest: 'build' is not an object");
  CHECK(rejection(R"({"build": {"created": 1}})") == "manifest: 'created' is not a string");
  CHECK(rejection(R"({"build": {"havre_version": []}})") == "manifest: 'havre_version' is not a string");
  CHECK(rejection(R"({"build": {"bases": {}}})") == "manifest: 'build.bases' is not an array");
  CHECK(rejection(R"({"build": {"bases": ["x"]}})") == "manifest: 'build.bases' holds a non-object");
  CHECK(rejection(R"({"build": {"bases": [{"kind": 1}]}})") == "manifest: 'kind' is not a string");
  CHECK(rejection(R"([1, 2])") == "manifest: not a JSON object");
  CHECK(rejection(R"("just a string")") == "manifest: not a JSON object");
  CHECK(rejection(R"({"name": "x")") == "manifest: not valid JSON");
  CHECK(rejection("") == "manifest: not valid JSON");
  CHECK(rejection(R"({"name": "x"} trailing)") == "manifest: not valid JSON");
}

TEST_CASE("manifest: from_json_prefix parses the manifest in front of other bytes") {
  const std::string json = manifest::to_json(sample());
  // The value ends at its closing brace; the newline to_json adds is not part of it.
  const size_t value_size = json.size() - 1;
  REQUIRE(json[value_size - 1] == '}');

  SUBCASE("followed by binary garbage") {
    std::string text = json;
    text += std::string("\0\x01\xff garbage {\"name\": \"other\"}", 30);
    auto out = manifest::from_json_prefix(text);
    REQUIRE_MESSAGE(out, out.error().message());
    check_equal(out->first, sample());
    CHECK(out->second == value_size);
  }
  SUBCASE("followed by a footer") {
    std::string text = json;
    text += std::string(120, '\x7f') + std::string("HAVRE\0FT", 8);
    auto out = manifest::from_json_prefix(text);
    REQUIRE_MESSAGE(out, out.error().message());
    CHECK(out->first.name == "demo");
    CHECK(out->second == value_size);
  }
  SUBCASE("a compact manifest directly followed by garbage") {
    auto out = manifest::from_json_prefix(std::string(R"({"name":"a","cmd":["x"]})") + "}}}junk");
    REQUIRE_MESSAGE(out, out.error().message());
    CHECK(out->first.name == "a");
    CHECK(out->first.cmd == std::vector<std::string>{"x"});
    CHECK(out->second == 24);
  }
  SUBCASE("alone, without anything after it") {
    const std::string compact = R"({"name":"a"})";
    auto out = manifest::from_json_prefix(compact);
    REQUIRE_MESSAGE(out, out.error().message());
    CHECK(out->first.name == "a");
    CHECK(out->second == compact.size());
  }
  SUBCASE("the whole of to_json's output") {
    auto out = manifest::from_json_prefix(json);
    REQUIRE_MESSAGE(out, out.error().message());
    CHECK(out->second >= value_size);
    CHECK(out->second <= json.size());
  }
  SUBCASE("not starting with a JSON object") {
    auto out = manifest::from_json_prefix(std::string_view("\0\0\0{}", 5));
    REQUIRE_FALSE(out);
    CHECK(out.error().message() == "manifest: not found after the image");
    CHECK_FALSE(manifest::from_json_prefix(""));
  }
  SUBCASE("a broken object") {
    auto out = manifest::from_json_prefix(std::string_view("{\"name\": \0\0\0", 12));
    REQUIRE_FALSE(out);
    CHECK(out.error().message().rfind("manifest: not valid JSON: ", 0) == 0);
  }
  SUBCASE("wrong types are still rejected") {
    auto out = manifest::from_json_prefix(R"({"cmd": 1} garbage)");
    REQUIRE_FALSE(out);
    CHECK(out.error().message() == "manifest: 'cmd' is not an array");
  }
}

TEST_CASE("manifest: is_valid_utf8 accepts exactly what to_json can write") {
  for (const std::string good : std::initializer_list<std::string>{
           "", "plain", "caf\xc3\xa9", "\xe2\x98\x83", "\xf0\x9f\x90\xa7", std::string("a\0b", 3)}) {
    CAPTURE(good);
    CHECK(manifest::is_valid_utf8(good));
    manifest::Manifest m;
    m.name = good;
    CHECK(manifest::from_json(manifest::to_json(m))->name == good);
  }
  // A stray continuation byte, a truncated sequence, an overlong '/', a UTF-16 surrogate, > U+10FFFF.
  for (const std::string bad : std::initializer_list<std::string>{"\x80", "a\xc3", "\xc0\xaf", "\xed\xa0\x80",
                                                                  "\xf4\x90\x80\x80", "\xff"}) {
    CAPTURE(bad);
    CHECK_FALSE(manifest::is_valid_utf8(bad));
  }
}

}  // namespace havre
