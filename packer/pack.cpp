#include "pack.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <ctime>
#include <filesystem>
#include <optional>

#include "appliance.h"
#include "base/io.h"
#include "base/log.h"
#include "base/sha256.h"
#include "build_cache.h"
#include "build_steps.h"
#include "cache.h"
#include "debootstrap.h"
#include "epoch.h"
#include "fetch.h"
#include "files.h"
#include "format/keys.h"
#include "format/manifest.h"
#include "format/superblock.h"
#include "interrupt.h"
#include "recipe.h"
#include "squashfs.h"
#include "tarball.h"
#include "tempdir.h"
#include "work_dir.h"
#include "version.h"

namespace havre::pack {
namespace {

namespace fs = std::filesystem;

manifest::Manifest make_manifest(const Recipe& r, const manifest::Base& base, const BuildEpoch& epoch) {
  manifest::Manifest m = r.manifest;
  m.build.havre_version = kVersion;
  m.build.bases = {base};
  // Only a time somebody chose: the clock would make every build different, and an epoch derived
  // from the base says nothing about when the appliance was made.
  if (epoch.chosen()) m.build.created = rfc3339_utc(epoch.seconds);
  return m;
}

// Brings the base to a local file or directory and records what it was.
struct ResolvedBase {
  std::string tarball;    // local tarball, or ""
  std::string directory;  // local directory, or ""
  manifest::Base record;
};

Result<ResolvedBase> resolve_base(const BaseSpec& spec, const PackOptions& opts,
                                  const std::string& work_dir) {
  ResolvedBase out;
  out.record.source = spec.source;
  out.record.kind = spec.manifest_kind;
  if (spec.kind == BaseSpec::Kind::kDirectory) {
    if (!fs::is_directory(spec.directory))
      return error("base directory " + spec.directory + " is not a directory");
    out.directory = spec.directory;
    return out;
  }
  out.tarball = spec.path;
  if (!spec.url.empty() || spec.kind == BaseSpec::Kind::kDebootstrap) {
    auto cache = Cache::open(opts.cache_dir);
    if (!cache) return cache.error();
    auto local = spec.kind == BaseSpec::Kind::kDebootstrap
                     ? debootstrap_tarball(spec.debootstrap, *cache, work_dir, opts.offline)
                     : fetch_verified(spec.url, spec.sha256, *cache, opts.offline);
    if (!local) return local.error();
    out.tarball = *local;
  }
  auto digest = verify_sha256(out.tarball, spec.sha256);
  if (!digest) return digest.error().wrap("base tarball");
  out.record.sha256 = to_hex(*digest);
  return out;
}

Result<PackResult> finish_appliance(ApplianceWriter& writer, const Recipe& recipe, const manifest::Base& base,
                                    const BuildEpoch& epoch, bool image_from_cache,
                                    const std::optional<signature::SecretKey>& key) {
  const std::string manifest_json = manifest::to_json(make_manifest(recipe, base, epoch));
  auto footer = writer.finish(manifest_json, key ? &*key : nullptr);
  if (!footer) return footer.error();
  if (auto ok = check_interrupted(); !ok) return ok.error();
  if (auto ok = writer.commit(); !ok) return ok.error();
  log::info("wrote %s (image %llu bytes at offset %llu, sha256 %s)", writer.target_path().c_str(),
            static_cast<unsigned long long>(footer->image_size),
            static_cast<unsigned long long>(footer->image_offset), to_hex(footer->image_sha256).c_str());
  PackResult result;
  result.output = writer.target_path();
  result.footer = *footer;
  result.bases = {base};
  result.epoch = epoch;
  result.image_from_cache = image_from_cache;
  if (key) {
    result.signature_key_id = keys::key_id_hex(signature::public_key_of(*key));
    log::info("signed with key id %s", result.signature_key_id.c_str());
  }
  return result;
}

// A SquashFS image's creation time: the epoch it was built with (build_image).
Result<std::uint32_t> image_creation_time(const std::string& image) {
  auto fd = open_fd(image, O_RDONLY);
  if (!fd) return fd.error();
  auto size = file_size(fd->get(), image);
  if (!size) return size.error();
  std::array<std::byte, squashfs::kSuperblockSize> bytes{};
  if (::pread(fd->get(), bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
    return sys_error("read the superblock of " + image);
  auto sb = squashfs::parse(bytes, 0, *size);
  if (!sb) return sb.error().wrap(image);
  return sb->mkfs_time;
}

const char* source_name(BuildEpoch::Source source) {
  switch (source) {
    case BuildEpoch::Source::kEnvironment:
      return "SOURCE_DATE_EPOCH";
    case BuildEpoch::Source::kRecipe:
      return "the recipe's source_date_epoch";
    case BuildEpoch::Source::kBase:
      break;
  }
  return "the newest time in the base";
}

}  // namespace

Result<std::string> find_runtime(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  if (const char* env = std::getenv("HAVRE_RUNTIME"); env && *env) return std::string(env);
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return sys_error(ec.value(), "readlink /proc/self/exe");
  for (const fs::path& candidate :
       {self.parent_path() / "havre-runtime", self.parent_path() / "../lib/havre/havre-runtime"})
    if (fs::is_regular_file(candidate, ec)) return candidate.lexically_normal().string();
  return error("cannot find the havre-runtime stub next to " + self.string() + "; pass --runtime");
}

Result<PackResult> pack(const PackOptions& opts) {
  // 1. Read the recipe; every mistake in it is reported before any work starts. The build's epoch
  //    (epoch.h): SOURCE_DATE_EPOCH, else the recipe's, else derived from the base once it is staged.
  auto recipe = load_recipe(opts.recipe);
  if (!recipe) return recipe.error();
  auto epoch = choose_epoch(std::getenv("SOURCE_DATE_EPOCH"), recipe->source_date_epoch);
  if (!epoch) return epoch.error();
  // The caller's umask must not reach the image (directories that files entries create, for one).
  ::umask(022);
  if (auto ok = check_file_sources(recipe->files, recipe->file); !ok) return ok.error();
  if (!recipe->run.empty() && ::geteuid() != 0)
    return error(recipe->file + ": `run` steps need root: they run as root inside the image (use sudo)");
  auto runtime = find_runtime(opts.runtime);
  if (!runtime) return runtime.error();
  std::optional<signature::SecretKey> key;
  if (!opts.sign_key.empty()) {
    auto loaded = keys::load_secret_key(opts.sign_key);
    if (!loaded) return loaded.error().wrap("--sign");
    key = *loaded;
  }

  // 2. A private work directory beside the output: same filesystem, so the final rename is atomic.
  //    Everything temporary lives in it and goes with it, on success, failure or Ctrl-C.
  const fs::path out = fs::absolute(opts.output);
  if (fs::is_directory(out)) return error("output " + out.string() + " is a directory");
  //    Work directories that killed builds left here go first (work_dir.h).
  remove_stale_work_dirs(out.parent_path().string());
  auto work = make_work_dir(out.parent_path().string(), "." + out.filename().string() + ".havre-");
  if (!work) return work.error().wrap("output " + out.string());

  // 3. Get the base (download or debootstrap cache, or local file) and check its sha256.
  auto base = resolve_base(recipe->base, opts, work->path());
  if (!base) return base.error();

  // 4. An image built before from the same inputs goes straight into the appliance.
  std::string image_key;
  std::optional<Cache> cache;
  if (opts.use_image_cache) {
    auto key = image_cache_key(*recipe, base->record.sha256, *epoch);
    if (!key) return key.error();
    image_key = *key;
    if (!image_key.empty()) {
      // The image cache only saves time: without a usable cache directory, build without it.
      if (auto c = Cache::open(opts.cache_dir))
        cache.emplace(std::move(*c));
      else
        log::warn("building without the image cache: %s", c.error().message().c_str());
      if (!cache) image_key.clear();
    }
  }
  const std::string cached_image = image_key.empty() ? "" : cache->dir() + "/images/" + image_key + ".sqfs";
  auto writer = ApplianceWriter::start(work->path() + "/appliance", out.string(), *runtime);
  if (!writer) return writer.error();
  if (!cached_image.empty() && ::access(cached_image.c_str(), R_OK) == 0) {
    log::info("image unchanged: reusing %s", cached_image.c_str());
    cache->touch(cached_image);
    if (!epoch->chosen()) {  // derived from the base when the image was built, and recorded in it
      auto seconds = image_creation_time(cached_image);
      if (!seconds) return seconds.error();
      epoch->seconds = *seconds;
    }
    if (auto ok = writer->copy_image_from(cached_image); !ok) return ok.error();
    return finish_appliance(*writer, *recipe, base->record, *epoch, true, key);
  }

  // 5. Stage the rootfs: unpack the tarball; take a directory as it is, or copy it when the recipe
  //    changes it. As root the owners, modes and device nodes are written for real (build steps then
  //    see them too); unprivileged, they travel to mksquashfs through fakeroot.
  const Attributes attributes = ::geteuid() == 0 ? Attributes::kOnDisk : Attributes::kFakerootDb;
  const bool changes_tree = !recipe->files.empty() || !recipe->run.empty();
  const std::string rootfs = work->path() + "/rootfs";
  StagedTree tree;
  if (!base->tarball.empty() || changes_tree)
    if (::mkdir(rootfs.c_str(), 0755) != 0) return sys_error("mkdir " + rootfs);
  if (!base->tarball.empty()) {
    log::info("unpacking %s", base->tarball.c_str());
    auto staged = extract_tarball(base->tarball, rootfs, attributes);
    if (!staged) return staged.error();
    tree = std::move(*staged);
  } else if (changes_tree) {
    log::info("copying %s", base->directory.c_str());
    if (auto ok = copy_tree(base->directory, rootfs); !ok) return ok.error();
    tree.dir = rootfs;
  } else {
    tree.dir = base->directory;
  }

  if (!epoch->chosen()) {
    // Deterministic and no older than anything in the base, so the base keeps its own times.
    if (base->tarball.empty()) {
      auto newest = newest_mtime(base->directory);
      if (!newest) return newest.error().wrap("base directory");
      epoch->seconds = *newest;
    } else {
      epoch->seconds = clamp_time(tree.newest_mtime);
    }
  }
  log::info("build time %s (from %s)", rfc3339_utc(epoch->seconds).c_str(), source_name(epoch->source));
  if (epoch->seconds > std::time(nullptr))
    log::warn(
        "the build time %s is in the future: what the build creates keeps its real, earlier times, so "
        "this build is not reproducible",
        rfc3339_utc(epoch->seconds).c_str());

  // 6. The recipe's files (stamped with the epoch), then its build steps, each in a container on the
  //    staged tree.
  if (auto ok = apply_files(recipe->files, recipe->file, tree, attributes, epoch->seconds); !ok)
    return ok.error();
  if (auto ok = run_build_steps(*runtime, tree.dir, recipe->run, recipe->manifest.env, recipe->manifest.name, epoch->seconds); !ok)
    return ok.error();

  // 7. mksquashfs writes the image straight into the output, after the stub; the image cache keeps a copy.
  //    Every time newer than the epoch (files the steps wrote, directories they changed) is stored as it.
  log::info("building the %s SquashFS image", recipe->squashfs.compression.c_str());
  if (auto ok = build_image(tree, recipe->squashfs, recipe->exclude, work->path(), writer->temp_path(),
                            writer->image_offset(), epoch->seconds);
      !ok)
    return ok.error();
  if (auto ok = check_interrupted(); !ok) return ok.error();

  if (!cached_image.empty()) {
    std::error_code ec;
    fs::create_directories(cache->dir() + "/images", ec);
    auto temp = cache->temp_path();
    if (ec || !temp) {
      log::warn("not caching the image: cannot write to %s/images", cache->dir().c_str());
    } else if (auto ok = writer->copy_image_to(*temp); !ok || !cache->commit_as(*temp, cached_image)) {
      ::unlink(temp->c_str());
      log::warn("not caching the image in %s", cached_image.c_str());
    }
  }
  // 8. Manifest and footer, then fsync + rename into place.
  return finish_appliance(*writer, *recipe, base->record, *epoch, false, key);
}

}  // namespace havre::pack
