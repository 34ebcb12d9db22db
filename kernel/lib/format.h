#pragma once
// printf-style formatting into a caller's buffer, checked by the compiler's
// format attribute. Supports %d %i %u %x %X %o %c %s %p %%, the length
// modifiers hh h l ll z j t, flags - 0 # and a field width and precision.
// Output is always NUL-terminated and truncated to fit; the return value is
// the length the full output would have had (as snprintf).

#include <kernel/lib/kstd.h>
#include <stdarg.h>

namespace tessera {

[[gnu::format(printf, 3, 4)]] size_t format(char* buffer, size_t size, const char* fmt, ...);
size_t vformat(char* buffer, size_t size, const char* fmt, va_list args);

// Streams formatted output to `sink(context, chars, count)` without a buffer.
using FormatSink = void (*)(void* context, const char* chars, size_t count);
size_t vformat_to(FormatSink sink, void* context, const char* fmt, va_list args);

} // namespace tessera
