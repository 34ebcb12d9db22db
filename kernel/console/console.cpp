#include <drivers/serial/serial.h>
#include <kernel/console/console.h>
#include <kernel/lib/format.h>
#include <kernel/locking/spinlock.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

constinit Spinlock<LockRank::Console> s_console_lock;
constinit LogLevel s_log_level = LogLevel::Info;

const char* level_tag(LogLevel level)
{
    switch (level) {
    case LogLevel::Debug:
        return "debug: ";
    case LogLevel::Info:
        return "";
    case LogLevel::Warn:
        return "warning: ";
    case LogLevel::Error:
        return "error: ";
    }
    return "";
}

void vprint_line(const char* prefix, const char* fmt, va_list args)
{
    char line[512];
    size_t used = 0;
    if (prefix != nullptr)
        used = format(line, sizeof(line), "%s", prefix);
    size_t full = vformat(line + used, sizeof(line) - used, fmt, args);
    used = used + full < sizeof(line) - 1 ? used + full : sizeof(line) - 1;
    console_write(line, used);
}

} // namespace

void console_print_unlocked(const char* fmt, ...)
{
    char line[256];
    va_list args;
    va_start(args, fmt);
    size_t length = vformat(line, sizeof(line), fmt, args);
    va_end(args);
    serial_write(line, length < sizeof(line) ? length : sizeof(line) - 1);
}

void console_set_log_level(LogLevel level) { s_log_level = level; }

void console_write(const char* chars, size_t count)
{
    SpinlockGuard guard(s_console_lock);
    serial_write(chars, count);
}

void console_print(const char* fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vprint_line(nullptr, fmt, args);
    va_end(args);
}

void log(LogLevel level, const char* fmt, ...)
{
    if (level < s_log_level)
        return;
    uint64_t ns = uptime_ns();
    char prefix[48];
    format(prefix, sizeof(prefix), "[%5llu.%06llu] %s", static_cast<unsigned long long>(ns / 1000000000),
        static_cast<unsigned long long>(ns / 1000 % 1000000), level_tag(level));
    // Append the newline to the format output by formatting into one line.
    char line[512];
    va_list args;
    va_start(args, fmt);
    size_t used = format(line, sizeof(line), "%s", prefix);
    used += vformat(line + used, sizeof(line) - used - 1, fmt, args);
    va_end(args);
    if (used > sizeof(line) - 2)
        used = sizeof(line) - 2;
    line[used++] = '\n';
    console_write(line, used);
}

} // namespace tessera
