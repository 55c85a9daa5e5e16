// stderr logging with a program prefix ("havre-pack:" or "havre:"). The level is the only global;
// main sets it once.
#pragma once

namespace havre::log {

enum class Level { kQuiet, kInfo, kDebug };

void init(const char* program, Level level);
Level level();

void info(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void debug(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void warn(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
/// Always printed: the one place an error reaches the user.
void error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace havre::log
