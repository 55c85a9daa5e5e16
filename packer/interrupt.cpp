#include "interrupt.h"

#include <csignal>
#include <cstring>

namespace havre::pack {
namespace {

volatile std::sig_atomic_t g_signal = 0;

void on_signal(int sig) { g_signal = sig; }

}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

int interrupted() { return g_signal; }

Status check_interrupted() {
  if (g_signal == 0) return {};
  return error(std::string("interrupted by ") + strsignal(g_signal));
}

}  // namespace havre::pack
