#pragma once
// The kernel console. A line printed from any CPU is copied into the log
// ring (lib/log_ring.h) under the console lock, which is held only for the
// copy; then the printing CPU drains the ring to the registered sinks
// (console_sink.h) outside the lock, unless another CPU is already draining
// and will write the line for it. Only one CPU drains at a time, so lines
// come out whole and in ring order (KTAP lines depend on this). Log lines
// carry an uptime stamp; raw lines (KTAP, the shell) carry no prefix.
//
// Before any sink exists (early boot) lines wait in the ring. A panicking
// CPU takes the console over: it writes straight to the sinks, and the
// others are stopped (kernel/console/panic.h).

#include <kernel/lib/kstd.h>
#include <kernel/lib/log_level.h>

namespace tessera {

void console_set_log_level(LogLevel level);
// Writes `count` bytes as one unit (a newline is not added).
void console_write(const char* chars, size_t count);

[[gnu::format(printf, 1, 2)]] void console_print(const char* fmt, ...);
[[gnu::format(printf, 2, 3)]] void log(LogLevel level, const char* fmt, ...);
// Writes straight to the sinks, bypassing the ring and its lock: for panic
// and exception reports, whose CPU has stopped every other CPU first.
[[gnu::format(printf, 1, 2)]] void console_print_unlocked(const char* fmt, ...);

// Writes out everything in the ring and waits for the sinks (before exit).
void console_flush();

// The panic path: from now on this CPU's console writes bypass the ring.
// Writes out what the ring still holds if its lock is free (the CPU that
// held it may have been stopped mid-copy; then the ring is left alone).
void console_take_over_for_panic();
// Waits for the sinks' devices, without any lock (panic exit).
void console_flush_sinks();

// Lines dropped because the ring was full where waiting was unsafe.
uint64_t console_dropped_lines();

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
