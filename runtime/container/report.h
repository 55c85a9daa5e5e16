// The container's init tells the outer runtime about a setup failure once, on the report pipe:
// {errno, message}. EOF without a report means setup succeeded.
#pragma once

#include <string>

#include "base/error.h"

namespace havre::runtime {

/// Writes `err` to the report pipe `fd` and _exit(125)s. Allocates nothing.
[[noreturn]] void report_and_exit(int fd, const Error& err) noexcept;

/// The Error a report encodes (errno kept), or an error saying the report is malformed.
Error decode_report(const std::string& bytes);

}  // namespace havre::runtime
