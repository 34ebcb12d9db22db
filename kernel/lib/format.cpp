#include <kernel/lib/format.h>

namespace tessera {

namespace {

struct Spec {
    bool left_align { false };
    bool alternate { false };
    bool zero_pad { false };
    bool has_precision { false };
    int width { 0 };
    int precision { 0 };
};

enum class Length { Int, Char, Short, Long, LongLong, Size, Max, PtrDiff };

class Writer {
public:
    Writer(FormatSink sink, void* context)
        : m_sink(sink)
        , m_context(context)
    {
    }
    void put(const char* chars, size_t count)
    {
        if (count == 0)
            return;
        m_sink(m_context, chars, count);
        m_total += count;
    }
    void pad(char c, int count)
    {
        for (int i = 0; i < count; ++i)
            put(&c, 1);
    }
    size_t total() const { return m_total; }

private:
    FormatSink m_sink;
    void* m_context;
    size_t m_total { 0 };
};

void emit_padded(
    Writer& out, const Spec& spec, const char* body, size_t length, const char* prefix = "", size_t prefix_length = 0)
{
    int fill = spec.width - static_cast<int>(length + prefix_length);
    if (fill < 0)
        fill = 0;
    if (!spec.left_align && !spec.zero_pad)
        out.pad(' ', fill);
    out.put(prefix, prefix_length);
    if (!spec.left_align && spec.zero_pad)
        out.pad('0', fill);
    out.put(body, length);
    if (spec.left_align)
        out.pad(' ', fill);
}

void emit_unsigned(Writer& out, Spec spec, unsigned long long value, unsigned base, bool upper, bool negative)
{
    // '#' with x/X: a 0x prefix (as printf, none for zero).
    bool hex_prefix = spec.alternate && base == 16 && value != 0;
    char digits[64];
    size_t n = 0;
    const char* alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        digits[n++] = alphabet[value % base];
        value /= base;
    } while (value != 0);
    // Precision is the minimum number of digits.
    while (spec.has_precision && n < static_cast<size_t>(spec.precision) && n < sizeof(digits))
        digits[n++] = '0';
    char body[64];
    for (size_t i = 0; i < n; ++i)
        body[i] = digits[n - 1 - i];
    if (spec.has_precision)
        spec.zero_pad = false;
    if (hex_prefix)
        emit_padded(out, spec, body, n, upper ? "0X" : "0x", 2);
    else
        emit_padded(out, spec, body, n, negative ? "-" : "", negative ? 1 : 0);
}

unsigned long long fetch_unsigned(Length length, va_list& args)
{
    switch (length) {
    case Length::Char:
        return static_cast<unsigned char>(va_arg(args, unsigned int));
    case Length::Short:
        return static_cast<unsigned short>(va_arg(args, unsigned int));
    case Length::Long:
        return va_arg(args, unsigned long);
    case Length::LongLong:
        return va_arg(args, unsigned long long);
    case Length::Size:
        return va_arg(args, size_t);
    case Length::Max:
        return va_arg(args, uintmax_t);
    case Length::PtrDiff:
        return static_cast<unsigned long long>(va_arg(args, ptrdiff_t));
    case Length::Int:
        break;
    }
    return va_arg(args, unsigned int);
}

long long fetch_signed(Length length, va_list& args)
{
    switch (length) {
    case Length::Char:
        return static_cast<signed char>(va_arg(args, int));
    case Length::Short:
        return static_cast<short>(va_arg(args, int));
    case Length::Long:
        return va_arg(args, long);
    case Length::LongLong:
        return va_arg(args, long long);
    case Length::Size:
        return static_cast<long long>(va_arg(args, size_t));
    case Length::Max:
        return va_arg(args, intmax_t);
    case Length::PtrDiff:
        return va_arg(args, ptrdiff_t);
    case Length::Int:
        break;
    }
    return va_arg(args, int);
}

struct BufferContext {
    char* buffer;
    size_t size;
    size_t used;
};

void buffer_sink(void* context, const char* chars, size_t count)
{
    auto* buffer = static_cast<BufferContext*>(context);
    for (size_t i = 0; i < count; ++i) {
        if (buffer->size != 0 && buffer->used + 1 < buffer->size)
            buffer->buffer[buffer->used++] = chars[i];
    }
}

} // namespace

size_t vformat_to(FormatSink sink, void* context, const char* fmt, va_list args_in)
{
    Writer out(sink, context);
    va_list args;
    va_copy(args, args_in);
    for (const char* p = fmt; *p != '\0'; ++p) {
        if (*p != '%') {
            const char* run = p;
            while (p[1] != '\0' && p[1] != '%')
                ++p;
            out.put(run, static_cast<size_t>(p - run + 1));
            continue;
        }
        ++p;
        Spec spec;
        for (;; ++p) {
            if (*p == '-')
                spec.left_align = true;
            else if (*p == '#')
                spec.alternate = true;
            else if (*p == '0')
                spec.zero_pad = true;
            else
                break;
        }
        if (*p == '*') {
            spec.width = va_arg(args, int);
            ++p;
        } else {
            while (*p >= '0' && *p <= '9' && spec.width < 4096)
                spec.width = spec.width * 10 + (*p++ - '0');
        }
        if (*p == '.') {
            spec.has_precision = true;
            ++p;
            if (*p == '*') {
                spec.precision = va_arg(args, int);
                ++p;
            } else {
                while (*p >= '0' && *p <= '9' && spec.precision < 4096)
                    spec.precision = spec.precision * 10 + (*p++ - '0');
            }
        }
        Length length = Length::Int;
        if (*p == 'h') {
            length = Length::Short;
            if (*++p == 'h') {
                length = Length::Char;
                ++p;
            }
        } else if (*p == 'l') {
            length = Length::Long;
            if (*++p == 'l') {
                length = Length::LongLong;
                ++p;
            }
        } else if (*p == 'z') {
            length = Length::Size;
            ++p;
        } else if (*p == 'j') {
            length = Length::Max;
            ++p;
        } else if (*p == 't') {
            length = Length::PtrDiff;
            ++p;
        }
        switch (*p) {
        case 'd':
        case 'i': {
            long long value = fetch_signed(length, args);
            unsigned long long magnitude
                = value < 0 ? 0ULL - static_cast<unsigned long long>(value) : static_cast<unsigned long long>(value);
            emit_unsigned(out, spec, magnitude, 10, false, value < 0);
            break;
        }
        case 'u':
            emit_unsigned(out, spec, fetch_unsigned(length, args), 10, false, false);
            break;
        case 'x':
        case 'X':
            emit_unsigned(out, spec, fetch_unsigned(length, args), 16, *p == 'X', false);
            break;
        case 'o':
            emit_unsigned(out, spec, fetch_unsigned(length, args), 8, false, false);
            break;
        case 'p': {
            auto value = reinterpret_cast<uintptr_t>(va_arg(args, void*));
            Spec pointer_spec;
            pointer_spec.zero_pad = true;
            pointer_spec.width = 16;
            out.put("0x", 2);
            emit_unsigned(out, pointer_spec, value, 16, false, false);
            break;
        }
        case 'c': {
            char c = static_cast<char>(va_arg(args, int));
            emit_padded(out, spec, &c, 1);
            break;
        }
        case 's': {
            const char* s = va_arg(args, const char*);
            if (s == nullptr)
                s = "(null)";
            size_t n = 0;
            while (s[n] != '\0' && (!spec.has_precision || n < static_cast<size_t>(spec.precision)))
                ++n;
            spec.zero_pad = false;
            emit_padded(out, spec, s, n);
            break;
        }
        case '%':
            out.put("%", 1);
            break;
        case '\0':
            // A lone '%' at the end: print it and stop.
            out.put("%", 1);
            va_end(args);
            return out.total();
        default:
            // Unknown conversion: print it literally so the mistake is visible.
            out.put(p - 1, 2);
            break;
        }
    }
    va_end(args);
    return out.total();
}

size_t vformat(char* buffer, size_t size, const char* fmt, va_list args)
{
    BufferContext context { buffer, size, 0 };
    size_t total = vformat_to(buffer_sink, &context, fmt, args);
    if (size != 0)
        buffer[context.used] = '\0';
    return total;
}

size_t format(char* buffer, size_t size, const char* fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    size_t total = vformat(buffer, size, fmt, args);
    va_end(args);
    return total;
}

} // namespace tessera
