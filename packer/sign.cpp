#include "sign.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "appliance.h"
#include "atomic_file.h"
#include "base/io.h"
#include "base/log.h"
#include "base/sha256.h"
#include "format/keys.h"
#include "secret_key.h"
#include "format/signature.h"
#include "format/self.h"
#include "tempdir.h"

namespace havre::pack {
namespace {

namespace fs = std::filesystem;

std::string parent_dir(const std::string& path) {
  const std::string dir = fs::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

// Writes `text` to a new file in `work` and links it to `target`: all or nothing, and never over an
// existing file (link(2) fails with EEXIST where rename(2) would replace).
Status write_new_file(const std::string& work, const std::string& target, const std::string& text,
                      mode_t mode) {
  const std::string temp = work + "/" + fs::path(target).filename().string();
  auto fd = open_fd(temp, O_WRONLY | O_CREAT | O_EXCL, mode);
  if (!fd) return fd.error();
  if (::fchmod(fd->get(), mode) != 0) return sys_error("chmod " + temp);  // whatever the umask
  if (auto ok = write_all(fd->get(), std::as_bytes(std::span(text)), temp); !ok) return ok;
  if (::fsync(fd->get()) != 0) return sys_error("fsync " + temp);
  if (::link(temp.c_str(), target.c_str()) != 0) {
    if (errno == EEXIST) return error(target + " exists; havre-pack keygen never overwrites a key");
    return sys_error("link " + temp + " to " + target);
  }
  return {};
}

}  // namespace

Result<std::string> keygen(const std::string& basename, const std::string& comment) {
  if (auto ok = keys::check_comment(comment); !ok) return ok.error();
  const std::string secret_path = basename + ".key", public_path = basename + ".pub";
  for (const std::string& p : {secret_path, public_path}) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0) return error(p + " exists; havre-pack keygen never overwrites a key");
  }
  auto key = keys::generate_secret_key();
  if (!key) return key.error();
  const signature::PublicKey pub = signature::public_key_of(*key);
  const std::string dir = parent_dir(secret_path);
  auto work = TempDir::make(dir, ".havre-keygen-");
  if (!work) return work.error().wrap("keygen");
  if (auto ok = write_new_file(work->path(), secret_path, keys::format_secret_key(*key), 0600); !ok)
    return ok.error();
  if (auto ok = write_new_file(work->path(), public_path, keys::format_public_key(pub, comment), 0644); !ok) {
    ::unlink(secret_path.c_str());  // no half a pair
    return ok.error();
  }
  if (auto ok = fsync_parent_dir(secret_path); !ok) return ok.error();
  return keys::key_id_hex(pub);
}

Result<std::string> sign_appliance(const std::string& path, const std::string& key_file) {
  auto key = keys::load_secret_key(key_file);
  if (!key) return key.error().wrap("sign --key");
  auto app = runtime::open_appliance(path);
  if (!app) return app.error();
  if (app->located_by != runtime::LocatedBy::kFooter)
    return error("sign " + path + ": its footer is unusable (" + app->footer_problem + ")");
  footer::Footer f = *app->footer;
  // Signing vouches for the hashes in the footer: make sure they still describe the bytes (the
  // manifest's was checked by open_appliance(): a mismatch would have meant a scan).
  auto image = sha256_fd_range(app->fd.get(), f.image_offset, f.image_size, path);
  if (!image) return image.error();
  if (*image != f.image_sha256)
    return error("sign " + path +
                 ": the image does not match its sha256 in the footer (damaged?); not signing it");
  if (auto old = signature::find_block(app->fd.get(), path, app->file_size, f); old.block)
    log::info("replacing the signature by key id %s", keys::key_id_hex(old.block->public_key).c_str());

  struct stat st {};
  if (::fstat(app->fd.get(), &st) != 0) return sys_error("stat " + path);
  // Write beside the real file (through a symlink, the link stays), then rename over it.
  std::error_code ec;
  const std::string target = fs::canonical(path, ec).string();
  if (ec) return sys_error(ec.value(), "resolve " + path);
  auto work = TempDir::make(parent_dir(target), "." + fs::path(target).filename().string() + ".havre-");
  if (!work) return work.error().wrap("sign " + path);
  const std::string temp = work->path() + "/signed";
  auto out = open_fd(temp, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (!out) return out.error();
  // Everything up to the end of the manifest, byte for byte (an old signature and footer stay behind).
  const std::uint64_t content_end = f.manifest_offset + f.manifest_size;
  if (auto ok = copy_range(app->fd.get(), 0, out->get(), 0, content_end, "copy " + path + " to " + temp); !ok)
    return ok.error();
  auto copied = file_size(out->get(), temp);
  if (!copied) return copied.error();
  if (*copied != content_end) return error("copy " + path + " to " + temp + ": short copy");
  f.flags &= ~footer::kFlagSigned;
  const auto trailer = signature::signed_trailer(f, *key);
  if (::lseek(out->get(), static_cast<off_t>(content_end), SEEK_SET) < 0) return sys_error("seek " + temp);
  if (auto ok = write_all(out->get(), trailer, temp); !ok) return ok.error();
  if (::fchown(out->get(), st.st_uid, st.st_gid) != 0 && errno != EPERM) return sys_error("chown " + temp);
  if (::fchmod(out->get(), st.st_mode & 07777) != 0) return sys_error("chmod " + temp);
  if (auto ok = commit_file(out->get(), temp, target); !ok) return ok.error();
  return keys::key_id_hex(signature::public_key_of(*key));
}

}  // namespace havre::pack
