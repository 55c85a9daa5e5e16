// `./app info`: the footer and manifest, for people or (--json) for programs. Never mounts anything.
#pragma once

#include <string>

#include "format/self.h"

namespace havre::runtime {

std::string info_text(const Appliance& a);
std::string info_json(const Appliance& a);

}  // namespace havre::runtime
