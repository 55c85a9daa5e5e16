// Downloads (libcurl). The only file that includes curl.
#pragma once

#include <string>

#include "base/error.h"
#include "cache.h"

namespace havre::pack {

/// Returns a local path holding the content with this sha256: from the cache, or downloaded from
/// `url` into it (redirects followed, transient failures retried, digest checked before use).
/// With `offline`, a cache miss is an error instead of a download.
Result<std::string> fetch_verified(const std::string& url, const std::string& sha256_hex, const Cache& cache,
                                   bool offline);

}  // namespace havre::pack
