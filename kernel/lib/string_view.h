#pragma once
// A non-owning view of bytes that are text. Never assumes NUL termination.

#include <kernel/lib/kstd.h>

namespace tessera {

class StringView {
public:
    constexpr StringView() = default;
    constexpr StringView(const char* data, size_t length)
        : m_data(data)
        , m_length(length)
    {
    }
    // From a NUL-terminated string (a literal or a C string).
    constexpr StringView(const char* cstring)
        : m_data(cstring)
        , m_length(cstring ? constexpr_length(cstring) : 0)
    {
    }

    constexpr const char* data() const { return m_data; }
    constexpr size_t length() const { return m_length; }
    constexpr bool is_empty() const { return m_length == 0; }
    constexpr char operator[](size_t i) const { return m_data[i]; }

    constexpr bool operator==(StringView other) const
    {
        if (m_length != other.m_length)
            return false;
        for (size_t i = 0; i < m_length; ++i) {
            if (m_data[i] != other.m_data[i])
                return false;
        }
        return true;
    }

    constexpr StringView substring(size_t start, size_t length) const
    {
        if (start > m_length)
            return {};
        if (length > m_length - start)
            length = m_length - start;
        return { m_data + start, length };
    }
    constexpr StringView substring(size_t start) const
    {
        return substring(start, start <= m_length ? m_length - start : 0);
    }
    constexpr bool starts_with(StringView prefix) const
    {
        return prefix.m_length <= m_length && substring(0, prefix.m_length) == prefix;
    }
    // Index of the first `c`, or npos.
    constexpr size_t find(char c, size_t from = 0) const
    {
        for (size_t i = from; i < m_length; ++i) {
            if (m_data[i] == c)
                return i;
        }
        return npos;
    }
    static constexpr size_t npos = static_cast<size_t>(-1);

private:
    static constexpr size_t constexpr_length(const char* s)
    {
        size_t n = 0;
        while (s[n] != '\0')
            ++n;
        return n;
    }

    const char* m_data { nullptr };
    size_t m_length { 0 };
};

} // namespace tessera
