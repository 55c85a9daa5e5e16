// Debian and Ubuntu bases: debootstrap, run once per set of inputs and cached as a tarball.
#pragma once

#include <string>

#include "base/error.h"
#include "cache.h"
#include "recipe.h"

namespace havre::pack {

/// The cache key: sha256 over every input that changes the tree (suite, variant, include,
/// components, mirror, architecture, keyring contents).
Result<std::string> debootstrap_key(const DebootstrapSpec& spec);

/// Returns a tarball of the bootstrapped tree: from the cache, or by running debootstrap (as root)
/// in `work_dir` and caching the result. With `offline`, a cache miss is an error.
Result<std::string> debootstrap_tarball(const DebootstrapSpec& spec, const Cache& cache,
                                        const std::string& work_dir, bool offline);

}  // namespace havre::pack
