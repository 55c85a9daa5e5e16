// Capabilities: the command gets Docker's default set in every set (bounding, permitted, effective,
// inheritable), ambient cleared, and no_new_privs -- unless the user adds or drops some.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"

namespace havre::runtime {

/// A capability set as a bit mask (bit N = capability N).
using CapSet = std::uint64_t;

/// CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE
/// SYS_CHROOT KILL AUDIT_WRITE (moby oci/caps/defaults.go).
CapSet default_capabilities();

/// Applies --cap-add / --cap-drop (names with or without CAP_, any case; "ALL") to `set`.
Result<CapSet> adjust_capabilities(CapSet set, const std::vector<std::string>& add,
                                   const std::vector<std::string>& drop);

/// In the command's process, just before execve: bounding set reduced to `keep`, ambient cleared,
/// inheritable/permitted/effective limited to `keep`, and no_new_privs set. (Both halves below;
/// they apply to the calling thread.)
Status restrict_capabilities(CapSet keep);
/// The bounding set reduced to `keep` (needs CAP_SETPCAP: first).
Status drop_bounding_set(CapSet keep);
/// Ambient cleared, inheritable/permitted/effective limited to `keep`, no_new_privs set.
Status limit_capabilities(CapSet keep);

}  // namespace havre::runtime
