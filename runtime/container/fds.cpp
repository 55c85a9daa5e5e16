#include "container/fds.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

namespace havre::runtime {

void close_fds_except(std::vector<int> keep) {
  keep.erase(std::remove_if(keep.begin(), keep.end(), [](int fd) { return fd < 3; }), keep.end());
  std::sort(keep.begin(), keep.end());
  unsigned from = 3;
  auto close_span = [](unsigned first, unsigned last) {
    if (first > last) return;
    if (::syscall(SYS_close_range, first, last, 0U) == 0) return;
    const unsigned max = std::min<unsigned>(last, static_cast<unsigned>(::sysconf(_SC_OPEN_MAX)));
    for (unsigned fd = first; fd <= max; ++fd) ::close(static_cast<int>(fd));
  };
  for (int fd : keep) {
    if (static_cast<unsigned>(fd) > from) close_span(from, static_cast<unsigned>(fd) - 1);
    from = static_cast<unsigned>(fd) + 1;
  }
  close_span(from, ~0U);
}

}  // namespace havre::runtime
