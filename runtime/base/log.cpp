#include "base/log.h"

#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace havre::log {
namespace {

const char* g_program = "havre";
Level g_level = Level::kInfo;

void vprint(const char* prefix, const char* fmt, va_list args) {
  // One fprintf per line would interleave with a payload's output; build the line first.
  char line[4096];
  int n = std::snprintf(line, sizeof line, "%s: %s", g_program, prefix);
  if (n < 0 || static_cast<size_t>(n) >= sizeof line) n = 0;
  std::vsnprintf(line + n, sizeof line - n, fmt, args);
  std::fprintf(stderr, "%s\n", line);
}

}  // namespace

void init(const char* program, Level level) {
  g_program = program;
  g_level = level;
}

Level level() { return g_level; }

void info(const char* fmt, ...) {
  if (g_level < Level::kInfo) return;
  va_list args;
  va_start(args, fmt);
  vprint("", fmt, args);
  va_end(args);
}

void debug(const char* fmt, ...) {
  if (g_level < Level::kDebug) return;
  // Milliseconds since the process started: start-up cost per step, readable from any debug run.
  struct timespec now {};
  clock_gettime(CLOCK_MONOTONIC, &now);
  static const double start = now.tv_sec * 1e3 + now.tv_nsec / 1e6;
  char prefix[48];
  std::snprintf(prefix, sizeof prefix, "debug: %8.3f ms: ", now.tv_sec * 1e3 + now.tv_nsec / 1e6 - start);
  va_list args;
  va_start(args, fmt);
  vprint(prefix, fmt, args);
  va_end(args);
}

void warn(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vprint("warning: ", fmt, args);
  va_end(args);
}

void error(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vprint("error: ", fmt, args);
  va_end(args);
}

}  // namespace havre::log
