#pragma once
// The kernel console: serial output, one whole line per write under the
// console lock, so lines from different CPUs never interleave mid-line
// (KTAP lines depend on this). Log lines carry an uptime stamp; raw lines
// (KTAP, the shell) carry no prefix.

#include <kernel/lib/kstd.h>
#include <kernel/lib/log_level.h>

namespace tessera {

void console_set_log_level(LogLevel level);
// Writes `count` bytes under the console lock (a newline is not added).
void console_write(const char* chars, size_t count);

[[gnu::format(printf, 1, 2)]] void console_print(const char* fmt, ...);
[[gnu::format(printf, 2, 3)]] void log(LogLevel level, const char* fmt, ...);
// Writes without the console lock, for panic and exception reports: the
// lock may be held by the code that failed. Lines may then interleave with
// another CPU's output; that is the price of always getting them out.
[[gnu::format(printf, 1, 2)]] void console_print_unlocked(const char* fmt, ...);

} // namespace tessera

#define dbgln(...) ::tessera::log(::tessera::LogLevel::Debug, __VA_ARGS__)
#define infoln(...) ::tessera::log(::tessera::LogLevel::Info, __VA_ARGS__)
#define warnln(...) ::tessera::log(::tessera::LogLevel::Warn, __VA_ARGS__)
#define errorln(...) ::tessera::log(::tessera::LogLevel::Error, __VA_ARGS__)
// Debug output that is always compiled and switched by a Kconfig option.
#define dbgln_if(flag, ...)                                                                                            \
    do {                                                                                                               \
        if constexpr (flag)                                                                                            \
            ::tessera::log(::tessera::LogLevel::Info, __VA_ARGS__);                                                    \
    } while (0)
