#include "recipe.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "test_util.h"

namespace havre::pack {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFile = "dir/r.yaml";
constexpr const char* kMinimal =
    "base:\n"
    "  tarball:\n"
    "    path: rootfs.tar.gz\n";
const std::string kSha(64, 'a');

Recipe parsed(const std::string& text) {
  CAPTURE(text);
  auto r = parse_recipe(text, kFile);
  if (!r) FAIL(r.error().message());
  return *r;
}

std::string rejection(const std::string& text) {
  CAPTURE(text);
  auto r = parse_recipe(text, kFile);
  REQUIRE_FALSE(r);
  return r.error().message();
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

TEST_CASE("recipe: a minimal recipe and its defaults") {
  const Recipe r = parsed(kMinimal);
  CHECK(r.file == kFile);
  CHECK(r.manifest.name == "r");  // the file's stem
  CHECK(r.manifest.version.empty());
  CHECK(r.base.kind == BaseSpec::Kind::kTarball);
  CHECK(r.base.source == "rootfs.tar.gz");
  CHECK(r.base.url.empty());
  CHECK(r.base.sha256.empty());
  CHECK(r.manifest.entrypoint.empty());
  CHECK(r.manifest.cmd.empty());
  CHECK(r.manifest.env.empty());
  CHECK(r.manifest.labels.empty());
  CHECK(r.squashfs.compression == "zstd");
  CHECK(r.squashfs.block_size == 131072);
  CHECK_FALSE(r.squashfs.level.has_value());
}

TEST_CASE("recipe: every field") {
  const Recipe r = parsed(
      "name: web\n"
      "version: '2.0'\n"
      "base:\n"
      "  tarball:\n"
      "    url: https://example.org/rootfs.tar.xz\n"
      "    sha256: " +
      std::string(64, 'A') +
      "\n"
      "entrypoint: [/bin/sh, -c]\n"
      "cmd: echo hi\n"
      "env:\n"
      "  PATH: /usr/bin\n"
      "  EMPTY: ''\n"
      "workdir: /srv\n"
      "hostname: box\n"
      "labels: {team: infra}\n"
      "squashfs:\n"
      "  compression: gzip\n"
      "  block_size: 64K\n"
      "  level: 9\n");
  CHECK(r.manifest.name == "web");
  CHECK(r.manifest.version == "2.0");
  CHECK(r.base.kind == BaseSpec::Kind::kTarball);
  CHECK(r.base.url == "https://example.org/rootfs.tar.xz");
  CHECK(r.base.source == r.base.url);
  CHECK(r.base.path.empty());
  CHECK(r.base.sha256 == kSha);  // lowercased
  CHECK(r.manifest.entrypoint == std::vector<std::string>{"/bin/sh", "-c"});
  CHECK(r.manifest.cmd == std::vector<std::string>{"echo hi"});  // a single string is a one-element list
  CHECK(r.manifest.env == std::map<std::string, std::string>{{"PATH", "/usr/bin"}, {"EMPTY", ""}});
  CHECK(r.manifest.workdir == "/srv");
  CHECK(r.manifest.hostname == "box");
  CHECK(r.manifest.labels == std::map<std::string, std::string>{{"team", "infra"}});
  CHECK(r.squashfs.compression == "gzip");
  CHECK(r.squashfs.block_size == 65536);
  REQUIRE(r.squashfs.level.has_value());
  CHECK(*r.squashfs.level == 9);
}

TEST_CASE("recipe: block_size") {
  auto block_size = [](const std::string& value) {
    return parsed(std::string(kMinimal) + "squashfs:\n  block_size: " + value + "\n").squashfs.block_size;
  };
  CHECK(block_size("128K") == 131072);
  CHECK(block_size("128k") == 131072);
  CHECK(block_size("1M") == 1048576);
  CHECK(block_size("65536") == 65536);
  CHECK(block_size("4K") == 4096);
  CHECK(block_size("'4096'") == 4096);

  auto refused = [](const std::string& value) {
    return rejection(std::string(kMinimal) + "squashfs:\n  block_size: " + value + "\n");
  };
  CHECK(refused("100K") ==
        "dir/r.yaml:5:15: squashfs.block_size: block size must be a power of two from 4K to 1M, got '100K'");
  CHECK(refused("2M") ==
        "dir/r.yaml:5:15: squashfs.block_size: block size must be a power of two from 4K to 1M, got '2M'");
  CHECK(refused("2K").find("got '2K'") != std::string::npos);
  CHECK(refused("0").find("got '0'") != std::string::npos);
  CHECK(refused("1G") == "dir/r.yaml:5:15: squashfs.block_size: '1G' is not a size (e.g. 131072, 128K, 1M)");
  CHECK(refused("-4K").find("is not a size") != std::string::npos);
  CHECK(refused("128 K").find("is not a size") != std::string::npos);
  CHECK(refused("[1]").find("squashfs.block_size: expected a string") != std::string::npos);
  CHECK(refused("99999999999999999999999").find("squashfs.block_size") != std::string::npos);
}

// Regression: parse_size once kept only the first 9 digits, so "0000040961" (40961) read as 4096.
TEST_CASE("recipe: a block_size with more than nine digits is not read from its first nine") {
  auto r = parse_recipe(std::string(kMinimal) + "squashfs:\n  block_size: '0000040961'\n", kFile);
  CHECK_FALSE(r);
}

TEST_CASE("recipe: source_date_epoch") {
  CHECK_FALSE(parsed(kMinimal).source_date_epoch);
  auto epoch = [](const std::string& value) {
    return parsed(std::string(kMinimal) + "source_date_epoch: " + value + "\n").source_date_epoch;
  };
  CHECK(epoch("1700000000") == 1700000000u);
  CHECK(epoch("'0'") == 0u);
  CHECK(epoch("4294967295") == 4294967295u);

  auto refused = [](const std::string& value) {
    return rejection(std::string(kMinimal) + "source_date_epoch: " + value + "\n");
  };
  CHECK(refused("4294967296") ==
        "dir/r.yaml:4:20: source_date_epoch: '4294967296' is past 2106, the last time SquashFS can store");
  CHECK(refused("-1") == "dir/r.yaml:4:20: source_date_epoch: '-1' is not a number of seconds since 1970");
  CHECK(refused("2023-11-14").find("'2023-11-14' is not a number of seconds since 1970") !=
        std::string::npos);
  CHECK(refused("99999999999999999999").find("is not a number") != std::string::npos);
  CHECK(refused("[1]") == "dir/r.yaml:4:20: source_date_epoch: expected a number");
}

TEST_CASE("recipe: unknown keys are named with file:line:column") {
  SUBCASE("top level") {
    const std::string msg = rejection(std::string(kMinimal) +
                                      "cmd: [x]\n"
                                      "  \n"
                                      "bogus: 1\n");
    CHECK(msg ==
          "dir/r.yaml:6:1: bogus: unknown key (expected one of: args, base, cmd, entrypoint, env, exclude, "
          "files, hostname, labels, name, run, source_date_epoch, squashfs, user, version, workdir)");
  }
  SUBCASE("indented, in base.tarball") {
    const std::string msg = rejection(
        "name: x\n"
        "base:\n"
        "  tarball:\n"
        "    path: a.tar\n"
        "    colour: red\n");
    CHECK(msg == "dir/r.yaml:5:5: base.tarball.colour: unknown key (expected one of: path, sha256, url)");
  }
  SUBCASE("in base") {
    CHECK(rejection("base:\n  docker: x\n") ==
          "dir/r.yaml:2:3: base.docker: unknown key (expected one of: alpine, debootstrap, directory, "
          "tarball)");
  }
  SUBCASE("in squashfs, in a flow mapping") {
    CHECK(rejection(std::string(kMinimal) + "squashfs: {compression: xz, speed: 3}\n") ==
          "dir/r.yaml:4:29: squashfs.speed: unknown key (expected one of: block_size, compression, level)");
  }
}

TEST_CASE("recipe: wrong types name the key") {
  SUBCASE("cmd as a mapping") {
    CHECK(rejection(std::string(kMinimal) + "cmd: {a: b}\n") ==
          "dir/r.yaml:4:6: cmd: expected a list of strings");
  }
  SUBCASE("a non-string inside entrypoint") {
    CHECK(rejection(std::string(kMinimal) + "entrypoint: [a, [b]]\n") ==
          "dir/r.yaml:4:17: entrypoint[1]: expected a string");
  }
  SUBCASE("name as a list") {
    CHECK(rejection(std::string(kMinimal) + "name: [a]\n") == "dir/r.yaml:4:7: name: expected a string");
  }
  SUBCASE("env as a list") {
    CHECK(rejection(std::string(kMinimal) + "env: [A=B]\n") ==
          "dir/r.yaml:4:6: env: expected a mapping of strings");
  }
  SUBCASE("an env value as a mapping") {
    CHECK(rejection(std::string(kMinimal) + "env:\n  A: {b: c}\n") ==
          "dir/r.yaml:5:6: env.A: expected a string");
  }
  SUBCASE("base as a string") {
    CHECK(rejection("base: rootfs.tar\n") == "dir/r.yaml:1:7: base: expected a mapping");
  }
  SUBCASE("the whole recipe as a list") {
    CHECK(rejection("- a\n- b\n") == "dir/r.yaml:1:1: a recipe is a YAML mapping");
  }
}

TEST_CASE("recipe: base") {
  SUBCASE("missing") { CHECK(rejection("name: x\n") == "dir/r.yaml:1:1: missing required key 'base'"); }
  SUBCASE("empty recipe") {
    CHECK(rejection("") == "dir/r.yaml: empty recipe (missing required key 'base')");
    CHECK(rejection("# nothing\n") == "dir/r.yaml: empty recipe (missing required key 'base')");
  }
  SUBCASE("both tarball and directory") {
    CHECK(rejection("base:\n  tarball: {path: a.tar}\n  directory: d\n") ==
          "dir/r.yaml:2:3: base: expected exactly one of: alpine, debootstrap, directory, tarball");
  }
  SUBCASE("both path and url") {
    CHECK(rejection("base:\n  tarball:\n    path: a.tar\n    url: https://x/a.tar\n    sha256: " + kSha +
                    "\n") == "dir/r.yaml:3:5: base.tarball: give either path or url, not both");
  }
  SUBCASE("neither path nor url") {
    CHECK(rejection("base:\n  tarball:\n    sha256: " + kSha + "\n") ==
          "dir/r.yaml:3:5: base.tarball: missing required key 'path' or 'url'");
  }
  SUBCASE("url without sha256") {
    const std::string msg = rejection("base:\n  tarball:\n    url: https://example.org/a.tar\n");
    CHECK(msg ==
          "dir/r.yaml:3:5: base.tarball: a remote url needs 'sha256' (the download is verified against it)");
    CHECK(msg.find("needs 'sha256'") != std::string::npos);
  }
  SUBCASE("url that is not a URL") {
    CHECK(rejection("base:\n  tarball:\n    url: example.org/a.tar\n    sha256: " + kSha + "\n") ==
          "dir/r.yaml:3:10: base.tarball.url: expected an http(s):// URL");
  }
  SUBCASE("sha256 of the wrong length") {
    CHECK(rejection("base:\n  tarball:\n    path: a.tar\n    sha256: " + std::string(63, 'a') + "\n") ==
          "dir/r.yaml:4:13: base.tarball.sha256: expected 64 hex digits");
    CHECK(rejection("base:\n  tarball:\n    path: a.tar\n    sha256: " + std::string(65, 'a') + "\n") ==
          "dir/r.yaml:4:13: base.tarball.sha256: expected 64 hex digits");
  }
  SUBCASE("sha256 that is not hex") {
    CHECK(rejection("base:\n  tarball:\n    path: a.tar\n    sha256: " + std::string(64, 'g') + "\n") ==
          "dir/r.yaml:4:13: base.tarball.sha256: expected 64 hex digits");
  }
  SUBCASE("a local path with a sha256") {
    const Recipe r = parsed("base:\n  tarball:\n    path: a.tar\n    sha256: " + kSha + "\n");
    CHECK(r.base.sha256 == kSha);
  }
}

TEST_CASE("recipe: relative paths are resolved against the recipe's directory") {
  SUBCASE("a relative recipe file") {
    const Recipe r = parsed(kMinimal);
    CHECK(fs::path(r.base.path).is_absolute());
    CHECK(r.base.path == fs::weakly_canonical(fs::current_path() / "dir" / "rootfs.tar.gz").string());
  }
  SUBCASE("an absolute recipe file, with .. in the base path") {
    auto r = parse_recipe("base:\n  tarball:\n    path: ../images/./rootfs.tar\n",
                          "/nonexistent-havre/recipes/app.yaml");
    REQUIRE_MESSAGE(r, r.error().message());
    CHECK(r->base.path == "/nonexistent-havre/images/rootfs.tar");
    CHECK(r->base.source == "../images/./rootfs.tar");
    CHECK(r->manifest.name == "app");
  }
  SUBCASE("an absolute base path is kept") {
    auto r = parse_recipe("base:\n  tarball:\n    path: /nonexistent-havre/x.tar\n", "/elsewhere/r.yaml");
    REQUIRE_MESSAGE(r, r.error().message());
    CHECK(r->base.path == "/nonexistent-havre/x.tar");
  }
  SUBCASE("a directory base") {
    auto r = parse_recipe("base:\n  directory: tree\n", "/nonexistent-havre/recipes/app.yaml");
    REQUIRE_MESSAGE(r, r.error().message());
    CHECK(r->base.kind == BaseSpec::Kind::kDirectory);
    CHECK(r->base.directory == "/nonexistent-havre/recipes/tree");
    CHECK(r->base.source == "tree");
  }
}

TEST_CASE("recipe: squashfs compression and level") {
  auto with = [](const std::string& squashfs) { return std::string(kMinimal) + "squashfs:\n" + squashfs; };
  SUBCASE("zstd levels 1..22") {
    CHECK(*parsed(with("  level: 1\n")).squashfs.level == 1);
    CHECK(*parsed(with("  level: 22\n")).squashfs.level == 22);
  }
  SUBCASE("level out of range") {
    CHECK(rejection(with("  level: 23\n")) ==
          "dir/r.yaml:5:10: squashfs.level: expected an integer from 1 to 22");
    CHECK(rejection(with("  level: 0\n")) ==
          "dir/r.yaml:5:10: squashfs.level: expected an integer from 1 to 22");
    CHECK(rejection(with("  compression: gzip\n  level: 10\n")) ==
          "dir/r.yaml:6:10: squashfs.level: expected an integer from 1 to 9");
  }
  SUBCASE("level that is not an integer") {
    CHECK(rejection(with("  level: fast\n")) ==
          "dir/r.yaml:5:10: squashfs.level: expected an integer from 1 to 22");
    CHECK(rejection(with("  level: 3.5\n")) ==
          "dir/r.yaml:5:10: squashfs.level: expected an integer from 1 to 22");
  }
  SUBCASE("level with lz4 or xz is refused, whatever the key order") {
    CHECK(rejection(with("  level: 3\n  compression: lz4\n")) ==
          "dir/r.yaml:5:10: squashfs.level: not supported with compression lz4");
    CHECK(rejection(with("  compression: xz\n  level: 3\n")) ==
          "dir/r.yaml:6:10: squashfs.level: not supported with compression xz");
  }
  SUBCASE("unknown compression") {
    CHECK(rejection(with("  compression: lzo\n")) ==
          "dir/r.yaml:5:16: squashfs.compression: 'lzo' is not one of zstd, xz, gzip, lz4");
  }
  SUBCASE("each known compression") {
    for (const char* c : {"zstd", "xz", "gzip", "lz4"}) {
      CAPTURE(c);
      CHECK(parsed(with(std::string("  compression: ") + c + "\n")).squashfs.compression == c);
    }
  }
}

TEST_CASE("recipe: env, workdir and YAML syntax errors") {
  SUBCASE("env key with '='") {
    CHECK(rejection(std::string(kMinimal) + "env:\n  A=B: x\n") ==
          "dir/r.yaml:5:3: env: 'A=B' is not a valid variable name");
  }
  SUBCASE("empty env key") {
    CHECK(rejection(std::string(kMinimal) + "env:\n  '': x\n").find("'' is not a valid variable name") !=
          std::string::npos);
  }
  SUBCASE("relative workdir") {
    CHECK(rejection(std::string(kMinimal) + "workdir: srv\n") ==
          "dir/r.yaml:4:10: workdir: must be an absolute path inside the image");
  }
  SUBCASE("YAML syntax error: unclosed flow sequence") {
    const std::string msg = rejection(std::string(kMinimal) + "cmd: [a, b\nname: x\n");
    CHECK(starts_with(msg, "dir/r.yaml:"));
    CHECK(msg.find("end of sequence") != std::string::npos);
  }
  SUBCASE("YAML syntax error: bad indentation, with its position") {
    const std::string msg = rejection("name: x\n  version: 1\n");
    CHECK(starts_with(msg, "dir/r.yaml:2:10: "));
  }
  SUBCASE("a non-scalar key") {
    CHECK(starts_with(rejection(std::string(kMinimal) + "[a, b]: c\n"), "dir/r.yaml:4:1: "));
  }
}

TEST_CASE("recipe: args") {
  CHECK(parsed(kMinimal).manifest.args.empty());
  CHECK(parsed(std::string(kMinimal) + "args: passthrough\n").manifest.args == "passthrough");
  CHECK(rejection(std::string(kMinimal) + "args: append\n") ==
        "dir/r.yaml:4:7: args: the only value is 'passthrough'");
  CHECK(rejection(std::string(kMinimal) + "args: [passthrough]\n") ==
        "dir/r.yaml:4:7: args: expected a string");
}

// Found by tests/fuzz/fuzz_recipe: yaml-cpp passes any bytes through, and a string that is not UTF-8
// made manifest::to_json() throw, so havre-pack aborted after building the image and left its work
// directory behind. Such recipes are refused when read, naming where.
TEST_CASE("recipe: strings that are not UTF-8 are refused") {
  SUBCASE("a value") {
    CHECK(rejection(std::string(kMinimal) + "version: 1\xfe\n") ==
          "dir/r.yaml:4:10: version: not valid UTF-8");
  }
  SUBCASE("a quoted value") {
    CHECK(rejection(std::string(kMinimal) + "name: \"a\xff\"\n") == "dir/r.yaml:4:7: name: not valid UTF-8");
  }
  SUBCASE("a single string taken as a list") {
    CHECK(rejection(std::string(kMinimal) + "cmd: /bin/\xc3\n") == "dir/r.yaml:4:6: cmd: not valid UTF-8");
  }
  SUBCASE("an env name and a label value") {
    CHECK(rejection(std::string(kMinimal) + "env: {\"A\xed\xa0\x80\": b}\n") ==
          "dir/r.yaml:4:7: env: not valid UTF-8");
    CHECK(rejection(std::string(kMinimal) + "labels: {a: \"\xc0\xaf\"}\n") ==
          "dir/r.yaml:4:13: labels.a: not valid UTF-8");
  }
  SUBCASE("a base path, which the manifest records") {
    CHECK(rejection("base:\n  directory: root\x80\n") == "dir/r.yaml:2:14: base.directory: not valid UTF-8");
  }
  SUBCASE("the file name, when it would be the name") {
    auto r = parse_recipe(kMinimal, "dir/app\xff.yaml");
    REQUIRE_FALSE(r);
    CHECK(r.error().message() ==
          "dir/app\xff.yaml:1:1: name: the recipe's file name is not valid UTF-8, so give a name");
    auto named = parse_recipe(std::string(kMinimal) + "name: app\n", "dir/app\xff.yaml");
    REQUIRE_MESSAGE(named, named.error().message());
    CHECK(named->manifest.name == "app");
  }
  SUBCASE("UTF-8 beyond ASCII is fine") {
    const Recipe r =
        parsed(std::string(kMinimal) + "name: caf\xc3\xa9\nenv: {\xe2\x98\x83: \xf0\x9f\x90\xa7}\n");
    CHECK(r.manifest.name == "caf\xc3\xa9");
    CHECK(r.manifest.env.at("\xe2\x98\x83") == "\xf0\x9f\x90\xa7");
  }
}

// Found while fuzzing recipes (reproduced with tests/fuzz/fuzz_recipe): libstdc++'s std::regex
// recursed per character, so a value of some 50 KB checked against a pattern (a URL, a suite name, a
// block size) overflowed the stack and havre-pack died of SIGSEGV. The checks are plain loops now,
// and every field keeps a length limit.
TEST_CASE("recipe: values far too long for their pattern are refused, not a stack overflow") {
  const std::string huge(1 << 20, '1');
  auto ends_with = [](const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  SUBCASE("a URL") {
    CHECK(rejection("base:\n  tarball:\n    url: https://" + huge + "\n    sha256: " + kSha + "\n") ==
          "dir/r.yaml:3:10: base.tarball.url: longer than 4096 bytes");
    CHECK(rejection("base:\n  debootstrap: {suite: bookworm, mirror: http://" + huge + "}\n") ==
          "dir/r.yaml:2:42: base.debootstrap.mirror: longer than 4096 bytes");
  }
  SUBCASE("names and versions") {
    CHECK(ends_with(rejection("base:\n  debootstrap: {suite: b" + huge + "}\n"), "' is not a valid name"));
    CHECK(ends_with(rejection("base:\n  debootstrap: {suite: bookworm, include: [a" + huge + "]}\n"),
                    "' is not a valid name"));
    CHECK(rejection("base:\n  alpine: {version: " + huge + ".1.1, sha256: " + kSha + "}\n") ==
          "dir/r.yaml:2:21: base.alpine.version: expected a release version like 3.20.3");
  }
  SUBCASE("a block size, an owner, a mode") {
    CHECK(ends_with(
        rejection(std::string(kMinimal) + "squashfs: {block_size: " + std::string(1 << 20, '0') + "4096}\n"),
        "' is not a size (e.g. 131072, 128K, 1M)"));
    CHECK(ends_with(rejection(std::string(kMinimal) + "user: \"" + huge + "\"\n"), "got '" + huge + "'"));
    CHECK(rejection(std::string(kMinimal) + "files: [{src: a, dst: /a, mode: \"" + huge + "\"}]\n") ==
          "dir/r.yaml:4:33: files[0].mode: expected an octal mode like 0755");
  }
  SUBCASE("4096 bytes still do") {
    const std::string url = "https://example.org/" + std::string(4096 - 20, 'a');
    CHECK(parsed("base:\n  tarball:\n    url: " + url + "\n    sha256: " + kSha + "\n").base.url == url);
  }
}

TEST_CASE("recipe: load_recipe reads a file") {
  auto dir = test::temp_dir();
  const std::string path = dir.path() + "/app.yaml";
  test::write_file(path, "base:\n  tarball:\n    path: rootfs.tar\n");
  auto r = load_recipe(path);
  REQUIRE_MESSAGE(r, r.error().message());
  CHECK(r->manifest.name == "app");
  CHECK(r->file == path);
  CHECK(r->base.path == fs::weakly_canonical(fs::path(dir.path()) / "rootfs.tar").string());

  auto missing = load_recipe(dir.path() + "/nope.yaml");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message() == "open recipe " + dir.path() + "/nope.yaml: No such file or directory");
}

}  // namespace havre::pack
