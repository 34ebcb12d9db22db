#pragma once
// ByteRingBuffer<N, policy>: N bytes (a power of two) of FIFO storage for a
// log or a byte stream. write() never fails and never blocks: bytes that do
// not fit are counted in dropped(), either the new ones (DropNewest, for a
// stream whose reader must see a consistent prefix) or the oldest ones
// (OverwriteOldest, for a console log where the latest lines matter).
//
// Not synchronized: the caller holds the lock that guards the buffer (the
// console lock for the kernel log).

#include <kernel/lib/checked.h>
#include <kernel/lib/kstd.h>
#include <kernel/lib/span.h>
#include <kernel/lib/string.h>

namespace tessera {

enum class WhenFull { DropNewest, OverwriteOldest };

template<size_t N, WhenFull policy = WhenFull::OverwriteOldest>
class ByteRingBuffer {
    static_assert(is_power_of_two(N), "ByteRingBuffer capacity must be a power of two");

public:
    static constexpr size_t capacity() { return N; }
    size_t size() const { return m_tail - m_head; }
    size_t free_space() const { return N - size(); }
    bool is_empty() const { return size() == 0; }
    // Bytes lost to a full buffer since construction.
    uint64_t dropped() const { return m_dropped; }

    // Appends `bytes`; returns how many of them were stored.
    size_t write(Span<const uint8_t> bytes)
    {
        if constexpr (policy == WhenFull::DropNewest) {
            size_t stored = bytes.size() < free_space() ? bytes.size() : free_space();
            m_dropped += bytes.size() - stored;
            bytes = bytes.first(stored);
        } else {
            if (bytes.size() > N) {
                // Only the last N bytes can survive; the rest and the whole
                // current content are dropped.
                m_dropped += size() + (bytes.size() - N);
                m_head = m_tail;
                bytes = bytes.last(N);
            }
            if (bytes.size() > free_space()) {
                size_t overwritten = bytes.size() - free_space();
                m_dropped += overwritten;
                m_head += overwritten;
            }
        }
        copy_in(bytes);
        return bytes.size();
    }
    size_t write(const char* text, size_t length)
    {
        return write(Span<const uint8_t>(reinterpret_cast<const uint8_t*>(text), length));
    }

    // Copies up to destination.size() of the oldest bytes, starting `offset`
    // bytes in, without consuming them; returns how many were copied.
    size_t peek(Span<uint8_t> destination, size_t offset = 0) const
    {
        if (offset >= size())
            return 0;
        size_t available = size() - offset;
        size_t count = destination.size() < available ? destination.size() : available;
        if (count == 0)
            return 0;
        size_t start = (m_head + offset) & (N - 1);
        size_t first_part = count < N - start ? count : N - start;
        memcpy(destination.data(), m_storage + start, first_part);
        if (count > first_part)
            memcpy(destination.data() + first_part, m_storage, count - first_part);
        return count;
    }

    // Drops up to `count` of the oldest bytes.
    void discard(size_t count) { m_head += count < size() ? count : size(); }

    // Moves up to destination.size() of the oldest bytes out.
    size_t read(Span<uint8_t> destination)
    {
        size_t count = peek(destination);
        discard(count);
        return count;
    }

private:
    void copy_in(Span<const uint8_t> bytes)
    {
        size_t start = m_tail & (N - 1);
        size_t first_part = bytes.size() < N - start ? bytes.size() : N - start;
        if (first_part > 0)
            memcpy(m_storage + start, bytes.data(), first_part);
        if (bytes.size() > first_part)
            memcpy(m_storage, bytes.data() + first_part, bytes.size() - first_part);
        m_tail += bytes.size();
    }

    // Free-running indices; the low bits pick the byte (see RingBuffer).
    uint8_t m_storage[N];
    size_t m_head { 0 };
    size_t m_tail { 0 };
    uint64_t m_dropped { 0 };
};

} // namespace tessera
