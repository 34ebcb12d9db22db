#pragma once
// Span<T>: a pointer and a count, never owning. Indexing and slice() VERIFY
// their bounds (a bug in our own arithmetic); try_slice() returns ERANGE for
// bounds that come from outside (a packet's length field).
//
//   Span<const uint8_t> payload = TRY(frame.try_slice(header_size));

#include <kernel/lib/assert.h>
#include <kernel/lib/checked.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

template<typename T>
class Span {
public:
    constexpr Span() = default;
    constexpr Span(T* data, size_t size)
        : m_data(data)
        , m_size(size)
    {
        VERIFY(data != nullptr || size == 0);
    }
    template<size_t N>
    constexpr Span(T (&array)[N])
        : m_data(array)
        , m_size(N)
    {
    }
    // Span<T> converts to Span<const T>.
    template<typename U>
    requires(kstd::is_same_v<const U, T> && !kstd::is_same_v<U, T>) constexpr Span(Span<U> other)
        : m_data(other.data())
        , m_size(other.size())
    {
    }

    constexpr T* data() const { return m_data; }
    constexpr size_t size() const { return m_size; }
    constexpr bool is_empty() const { return m_size == 0; }
    constexpr T* begin() const { return m_data; }
    constexpr T* end() const { return m_data + m_size; }

    constexpr T& operator[](size_t index) const
    {
        VERIFY(index < m_size);
        return m_data[index];
    }

    // Elements [offset, offset + count); VERIFYs they lie inside the span.
    constexpr Span slice(size_t offset, size_t count) const
    {
        VERIFY(offset <= m_size && count <= m_size - offset);
        return Span(m_data + offset, count);
    }
    constexpr Span slice(size_t offset) const
    {
        VERIFY(offset <= m_size);
        return Span(m_data + offset, m_size - offset);
    }
    constexpr Span first(size_t count) const { return slice(0, count); }
    constexpr Span last(size_t count) const
    {
        VERIFY(count <= m_size);
        return slice(m_size - count, count);
    }

    // As slice(), but out-of-range bounds are ERANGE (overflow included).
    constexpr ErrorOr<Span> try_slice(size_t offset, size_t count) const
    {
        size_t end;
        if (__builtin_add_overflow(offset, count, &end) || end > m_size)
            return Error(Errno::RANGE, "span slice out of range");
        return Span(m_data + offset, count);
    }
    constexpr ErrorOr<Span> try_slice(size_t offset) const
    {
        if (offset > m_size)
            return Error(Errno::RANGE, "span slice out of range");
        return Span(m_data + offset, m_size - offset);
    }

    // The same memory as bytes (const unless T is non-const).
    Span<const uint8_t> as_bytes() const { return { reinterpret_cast<const uint8_t*>(m_data), m_size * sizeof(T) }; }
    Span<uint8_t> as_writable_bytes() const requires(!kstd::is_const_v<T>)
    {
        return { reinterpret_cast<uint8_t*>(m_data), m_size * sizeof(T) };
    }

private:
    T* m_data { nullptr };
    size_t m_size { 0 };
};

template<typename T>
using ReadonlySpan = Span<const T>;

} // namespace tessera
