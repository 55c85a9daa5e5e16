// Ctrl-C / SIGTERM / SIGHUP: remembered, so the build unwinds through its destructors (removing temp
// files and killing mksquashfs) instead of dying with half-written output around.
#pragma once

#include "base/error.h"

namespace havre::pack {

/// Installs the handlers (without SA_RESTART, so blocking calls return EINTR).
void install_interrupt_handlers();
/// The signal received, or 0.
int interrupted();
/// An error if a signal arrived; long loops call this between steps.
Status check_interrupted();

}  // namespace havre::pack
