// Unpacking a rootfs tarball (libarchive) into a staging directory, plus the fakeroot state that
// carries what an unprivileged extraction cannot (ownership, exact modes, device nodes, fifos).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/error.h"
#include "base/sha256.h"
#include "fakeroot_db.h"

namespace havre::pack {

struct StagedTree {
  std::string dir;  // what mksquashfs reads
  FakerootDb db;    // the archive's attributes for every staged path; empty for a directory base
  std::int64_t newest_mtime = 0;  // the newest modification time among the archive's entries
};

/// Hashes a file; a mismatch against `expected_hex` (when non-empty) is an error naming both digests.
Result<Digest> verify_sha256(const std::string& path, const std::string& expected_hex);

/// Where the archive's ownership, modes and special files go.
enum class Attributes {
  kFakerootDb,  // unprivileged: files owned by us, the archive's attributes in StagedTree::db
  kOnDisk,      // root: chown, exact modes and real device nodes on disk; db stays empty
};

/// Extracts `tarball` (.tar, .gz, .xz, .zst, .bz2, ...) into `dir`, which must exist and be empty.
/// Entries that would land outside it (absolute names, "..", writes through symlinks) are refused with
/// the entry's name.
Result<StagedTree> extract_tarball(const std::string& tarball, const std::string& dir,
                                   Attributes attributes = Attributes::kFakerootDb);

/// Copies a directory tree (owners, modes, special files, hard links, times) into `dst`, which must
/// exist and be empty. Owners and device nodes need root; unprivileged, they come out as ours.
Status copy_tree(const std::string& src, const std::string& dst);

/// Writes the tree under `dir` as a zstd-compressed pax tarball (entries "./...", numeric owners).
Status write_tarball(const std::string& dir, const std::string& output);

/// Normalizes an archive entry name: "./a//b/" -> "a/b", "." -> "". Absolute names, ".." components and
/// newlines are errors.
Result<std::string> normalize_entry_name(const std::string& name);

}  // namespace havre::pack
