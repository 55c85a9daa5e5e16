#include "debootstrap.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "base/log.h"
#include "base/sha256.h"
#include "process.h"
#include "tarball.h"
#include "tempdir.h"

namespace havre::pack {
namespace {

namespace fs = std::filesystem;

std::string join(std::vector<std::string> words, bool sort) {
  if (sort) std::sort(words.begin(), words.end());
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : ",") + w;
  return out;
}

Result<std::string> host_arch() {
  auto r = run_process({"dpkg", "--print-architecture"});
  if (!r) return r.error().wrap("finding the host's Debian architecture");
  std::string arch = r->output;
  while (!arch.empty() && (arch.back() == '\n' || arch.back() == ' ')) arch.pop_back();
  if (r->status != 0 || arch.empty()) return error("dpkg --print-architecture failed: " + r->output);
  return arch;
}

}  // namespace

Result<std::string> debootstrap_key(const DebootstrapSpec& spec) {
  std::string arch = spec.arch;
  if (arch.empty()) {
    auto a = host_arch();
    if (!a) return a.error();
    arch = *a;
  }
  std::string keyring_digest;
  if (!spec.keyring.empty()) {
    auto d = verify_sha256(spec.keyring, "");
    if (!d) return d.error().wrap("base.debootstrap.keyring");
    keyring_digest = to_hex(*d);
  }
  const std::string inputs = "havre-debootstrap-1\nsuite=" + spec.suite + "\nvariant=" + spec.variant +
                             "\ninclude=" + join(spec.include, true) +
                             "\ncomponents=" + join(spec.components, false) + "\nmirror=" + spec.mirror +
                             "\narch=" + arch + "\nkeyring=" + keyring_digest + "\n";
  return to_hex(sha256(std::as_bytes(std::span(inputs))));
}

Result<std::string> debootstrap_tarball(const DebootstrapSpec& spec, const Cache& cache,
                                        const std::string& work_dir, bool offline) {
  auto key = debootstrap_key(spec);
  if (!key) return key.error();
  const std::string cached = cache.dir() + "/debootstrap/" + *key + ".tar.zst";
  if (::access(cached.c_str(), R_OK) == 0) {
    log::info("debootstrap %s: cached (%s)", spec.suite.c_str(), cached.c_str());
    cache.touch(cached);  // last use, for `cache prune`
    return cached;
  }
  if (offline)
    return error("debootstrap " + spec.suite + ": not in the cache " + cache.dir() +
                 " and --offline was given");
  if (::geteuid() != 0) return error("debootstrap " + spec.suite + " needs root (run havre-pack with sudo)");

  const std::string target = work_dir + "/debootstrap";
  std::vector<std::string> argv = {"debootstrap", "--variant=" + spec.variant};
  if (!spec.include.empty()) argv.push_back("--include=" + join(spec.include, false));
  if (!spec.components.empty()) argv.push_back("--components=" + join(spec.components, false));
  if (!spec.arch.empty()) argv.push_back("--arch=" + spec.arch);
  if (!spec.keyring.empty()) argv.push_back("--keyring=" + spec.keyring);
  argv.insert(argv.end(), {spec.suite, target});
  // Without a mirror, debootstrap picks its own default for the suite (Debian's or Ubuntu's archive).
  if (!spec.mirror.empty()) argv.push_back(spec.mirror);

  log::info("debootstrap %s (%s): this takes a while; the result is cached", spec.suite.c_str(),
            spec.variant.c_str());
  auto r = run_process(argv, [](const std::string& line) {
    if (line.rfind("I: ", 0) != 0 || log::level() >= log::Level::kDebug) return;
    log::info("debootstrap: %s", line.c_str() + 3);
  });
  if (!r) return r.error();
  if (r->status != 0) {
    std::string out = r->output;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    const size_t keep = out.size() > 3000 ? out.size() - 3000 : 0;
    return error("debootstrap " + spec.suite + " failed (exit status " + std::to_string(r->status) + "):\n" +
                 out.substr(keep));
  }

  std::error_code ec;
  fs::create_directories(cache.dir() + "/debootstrap", ec);
  if (ec) return sys_error(ec.value(), "create " + cache.dir() + "/debootstrap");
  auto temp = cache.temp_path();
  if (!temp) return temp.error();
  log::info("caching the bootstrapped tree as %s", cached.c_str());
  if (auto ok = write_tarball(target, *temp); !ok) {
    ::unlink(temp->c_str());
    return ok.error();
  }
  if (auto ok = cache.commit_as(*temp, cached); !ok) {
    ::unlink(temp->c_str());
    return ok.error();
  }
  remove_tree(target);  // the tarball is what the build uses from here on
  return cached;
}

}  // namespace havre::pack
