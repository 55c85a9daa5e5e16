#include "appliance.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <vector>

#include "atomic_file.h"
#include "base/io.h"
#include "base/sha256.h"
#include "format/elf.h"

namespace havre::pack {

namespace fs = std::filesystem;

Result<ApplianceWriter> ApplianceWriter::start(const std::string& temp, const std::string& target,
                                               const std::string& runtime) {
  auto in = open_fd(runtime, O_RDONLY);
  if (!in) return in.error().wrap("runtime stub");
  auto runtime_end = elf::image_end(in->get(), runtime);
  if (!runtime_end) return runtime_end.error().wrap("runtime stub");
  auto runtime_size = file_size(in->get(), runtime);
  if (!runtime_size) return runtime_size.error();
  if (*runtime_size != *runtime_end)
    return error("runtime stub " + runtime + " has data after its ELF image (is it an appliance already?)");

  auto out = open_fd(temp, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (!out) return out.error();
  const std::uint64_t offset = footer::align_up(*runtime_size, footer::kImageAlignment);
  return ApplianceWriter(std::move(*out), std::move(*in), temp, target, runtime, *runtime_size, offset);
}

Status copy_range(int in, std::uint64_t in_offset, int out, std::uint64_t out_offset, std::uint64_t size,
                  const std::string& what) {
  auto in_off = static_cast<loff_t>(in_offset);
  auto out_off = static_cast<loff_t>(out_offset);
  // copy_file_range first (reflinks and in-kernel copies); across filesystems (EXDEV), on a
  // filesystem or kernel without it (EOPNOTSUPP, ENOSYS, EINVAL), plain reads and writes.
  bool kernel_copy = true;
  std::vector<char> buf;
  while (size > 0) {
    const size_t chunk = static_cast<size_t>(std::min<std::uint64_t>(size, 1 << 30));
    if (kernel_copy) {
      const ssize_t n = ::copy_file_range(in, &in_off, out, &out_off, chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)) {
        kernel_copy = false;
        buf.resize(1 << 20);
        continue;
      }
      if (n < 0) return sys_error(what);
      if (n == 0) break;
      size -= static_cast<std::uint64_t>(n);
      continue;
    }
    const ssize_t n = ::pread(in, buf.data(), std::min(chunk, buf.size()), in_off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(what + ": read");
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::pwrite(out, buf.data() + done, static_cast<size_t>(n - done), out_off);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return sys_error(what + ": write");
      done += w;
      out_off += w;
    }
    in_off += n;
    size -= static_cast<std::uint64_t>(n);
  }
  return {};
}

Status ApplianceWriter::copy_image_from(const std::string& image) {
  auto in = open_fd(image, O_RDONLY);
  if (!in) return in.error();
  return copy_range(in->get(), 0, fd_.get(), image_offset_, UINT64_MAX, "copy " + image + " to " + temp_);
}

Status ApplianceWriter::copy_image_to(const std::string& path) {
  auto size = file_size(fd_.get(), temp_);
  if (!size) return size.error();
  auto out = open_fd(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!out) return out.error();
  if (auto ok = copy_range(fd_.get(), image_offset_, out->get(), 0, *size - image_offset_,
                           "copy the image to " + path);
      !ok)
    return ok;
  if (::fsync(out->get()) != 0) return sys_error("fsync " + path);
  return {};
}

Status ApplianceWriter::write_runtime() {
  // mksquashfs -offset zero-fills the bytes before the image, so the stub goes in afterwards.
  if (auto ok =
          copy_range(runtime_fd_.get(), 0, fd_.get(), 0, runtime_size_, "copy " + runtime_ + " to " + temp_);
      !ok)
    return ok;
  const std::vector<std::byte> zeros(image_offset_ - runtime_size_);
  if (::pwrite(fd_.get(), zeros.data(), zeros.size(), static_cast<off_t>(runtime_size_)) !=
      static_cast<ssize_t>(zeros.size()))
    return sys_error("write padding to " + temp_);
  return {};
}

Result<footer::Footer> ApplianceWriter::finish(const std::string& manifest_json,
                                               const signature::SecretKey* key) {
  auto size = file_size(fd_.get(), temp_);
  if (!size) return size.error();
  if (*size <= image_offset_) return error("the image was not written to " + temp_);
  if (auto ok = write_runtime(); !ok) return ok.error();
  footer::Footer f;
  f.image_offset = image_offset_;
  f.image_size = footer::align_up(*size - image_offset_, footer::kImageAlignment);
  // mksquashfs pads to 4 KiB itself; make sure regardless, with zeros.
  if (::ftruncate(fd_.get(), static_cast<off_t>(f.image_offset + f.image_size)) != 0)
    return sys_error("pad image in " + temp_);
  auto digest = sha256_fd_range(fd_.get(), f.image_offset, f.image_size, temp_);
  if (!digest) return digest.error();
  f.image_sha256 = *digest;
  f.manifest_offset = f.image_offset + f.image_size;
  f.manifest_size = manifest_json.size();
  f.manifest_sha256 = sha256(std::as_bytes(std::span(manifest_json)));

  if (::lseek(fd_.get(), static_cast<off_t>(f.manifest_offset), SEEK_SET) < 0)
    return sys_error("seek " + temp_);
  if (auto ok = write_all(fd_.get(), std::as_bytes(std::span(manifest_json)), temp_); !ok) return ok.error();
  if (key != nullptr) {
    // The signature covers the footer, which holds both hashes: the image is not touched again.
    f.flags |= footer::kFlagSigned;
    const auto bytes = signature::signed_trailer(f, *key);
    if (auto ok = write_all(fd_.get(), bytes, temp_); !ok) return ok.error();
    return f;
  }
  const auto bytes = footer::encode(f);
  if (auto ok = write_all(fd_.get(), bytes, temp_); !ok) return ok.error();
  return f;
}

Status ApplianceWriter::commit() {
  if (::fchmod(fd_.get(), 0755) != 0) return sys_error("chmod " + temp_);
  auto ok = commit_file(fd_.get(), temp_, target_);
  fd_.reset();
  return ok;
}

}  // namespace havre::pack
