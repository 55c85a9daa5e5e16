#include "squashfs.h"

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <thread>

#include "base/io.h"
#include "base/log.h"
#include "base/unique_fd.h"
#include "process.h"

namespace havre::pack {

std::vector<std::string> mksquashfs_argv(const std::string& dir, const SquashfsSpec& spec,
                                         const std::vector<std::string>& exclude, const std::string& output,
                                         std::uint64_t offset, unsigned processors, bool xattrs) {
  std::vector<std::string> argv;
  argv.insert(
      argv.end(),
      {
          "mksquashfs",
          dir,
          output,
          // mksquashfs zero-fills the bytes before the offset; the runtime is written there afterwards.
          "-offset",
          std::to_string(offset),
          "-comp",
          spec.compression,
          "-b",
          std::to_string(spec.block_size),
          "-processors",
          std::to_string(processors),
          "-noappend",
          // Root: the staged tree holds the base's and the steps' xattrs for real (file
          // capabilities among them), and mksquashfs stores them. Unprivileged: the fakeroot state
          // has owners and modes but no xattrs, so none are stored.
          xattrs ? "-xattrs" : "-no-xattrs",
          "-no-progress",
          "-quiet",
      });
  if (spec.level) argv.insert(argv.end(), {"-Xcompression-level", std::to_string(*spec.level)});
  if (!exclude.empty()) {
    // mksquashfs wants -e last; with -wildcards its patterns are globs relative to the source root.
    argv.insert(argv.end(), {"-wildcards", "-e"});
    for (const std::string& glob : exclude) argv.push_back(glob[0] == '/' ? glob.substr(1) : glob);
  }
  return argv;
}

namespace {

// Whether any entry of the tree has an extended attribute. Without any, the image is built with
// -no-xattrs whoever builds it, so a root build and an unprivileged one stay byte-identical.
bool has_xattrs(const std::string& dir) {
  std::error_code ec;
  if (::llistxattr(dir.c_str(), nullptr, 0) > 0) return true;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const ssize_t n = ::llistxattr(it->path().c_str(), nullptr, 0);
    if (n > 0 || (n < 0 && errno != ENOTSUP && errno != ENODATA)) return true;  // unsure: keep them
  }
  return static_cast<bool>(ec);
}

}  // namespace

Status build_image(const StagedTree& tree, const SquashfsSpec& spec, const std::vector<std::string>& exclude,
                   const std::string& work_dir, const std::string& output, std::uint64_t offset,
                   std::uint32_t epoch) {
  // Unprivileged builds: mksquashfs sees the archive's attributes through fakeroot (fakeroot_db.h).
  std::optional<FakedDaemon> faked;
  std::vector<std::string> env;
  if (!tree.db.empty()) {
    auto text = tree.db.render(tree.dir);
    if (!text) return text.error();
    const std::string db_path = work_dir + "/fakeroot.db";
    auto fd = open_fd(db_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (!fd) return fd.error();
    if (auto ok = write_all(fd->get(), std::as_bytes(std::span(*text)), db_path); !ok) return ok;
    auto daemon = FakedDaemon::start(db_path);
    if (!daemon) return daemon.error();
    faked.emplace(std::move(*daemon));
    env = faked->environment();
  }
  // mksquashfs 4.5 refuses -mkfs-time/-all-time together with SOURCE_DATE_EPOCH, and -all-time would
  // erase the base's own times; SOURCE_DATE_EPOCH sets the creation time and clamps, as wanted.
  env.push_back("SOURCE_DATE_EPOCH=" + std::to_string(epoch));
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  auto argv = mksquashfs_argv(tree.dir, spec, exclude, output, offset, cores, tree.db.empty() && ::geteuid() == 0 && has_xattrs(tree.dir));
  std::string line;
  for (const std::string& a : argv) line += (line.empty() ? "" : " ") + a;
  log::debug("running %s", line.c_str());
  auto result = run_process(argv, {}, env);
  if (!result) return result.error().wrap("building the SquashFS image");
  if (result->status != 0) {
    std::string out = result->output;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return error(argv.front() + " failed (exit status " + std::to_string(result->status) + "):\n" + out);
  }
  return {};
}

}  // namespace havre::pack
