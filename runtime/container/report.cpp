#include "container/report.h"

#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

namespace havre::runtime {

void report_and_exit(int fd, const Error& err) noexcept {
  // One writev: the pipe keeps a report below PIPE_BUF in one piece.
  int errnum = err.errnum;
  iovec parts[2] = {{&errnum, sizeof errnum},
                    {const_cast<char*>(err.context.data()), err.context.size()}};
  ssize_t ignored = ::writev(fd, parts, 2);
  (void)ignored;
  ::_exit(125);
}

Error decode_report(const std::string& bytes) {
  int errnum = 0;
  if (bytes.size() < sizeof errnum) return error("the container's init sent a truncated error report");
  std::memcpy(&errnum, bytes.data(), sizeof errnum);
  return Error{errnum, bytes.substr(sizeof errnum)};
}

}  // namespace havre::runtime
