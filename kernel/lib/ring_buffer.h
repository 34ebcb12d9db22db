#pragma once
// RingBuffer<T, N>: a fixed-capacity FIFO of N elements (N a power of two)
// stored inline, so pushing and popping never allocate. try_push() refuses
// when full (ENOSPC); push_overwriting() drops the oldest element instead,
// for logs where the newest entries matter most.
//
// Not synchronized: a ring shared between CPUs, or between a thread and an
// IRQ handler, lives inside a SpinlockProtected (or behind a guard) like any
// other data.

#include <kernel/lib/assert.h>
#include <kernel/lib/checked.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>
#include <kernel/lib/optional.h>

namespace tessera {

template<typename T, size_t N>
class RingBuffer {
    static_assert(is_power_of_two(N), "RingBuffer capacity must be a power of two");

public:
    RingBuffer() = default;
    RingBuffer(const RingBuffer&) = delete;
    RingBuffer& operator=(const RingBuffer&) = delete;
    ~RingBuffer() { clear(); }

    static constexpr size_t capacity() { return N; }
    size_t size() const { return m_tail - m_head; }
    bool is_empty() const { return m_tail == m_head; }
    bool is_full() const { return size() == N; }
    // Elements dropped by push_overwriting() since construction.
    size_t overwritten() const { return m_overwritten; }

    ErrorOr<void> try_push(T value)
    {
        if (is_full())
            return Error(Errno::NOSPC, "ring buffer full");
        new (slot(m_tail)) T(kstd::move(value));
        ++m_tail;
        return {};
    }

    // Pushes even when full by dropping the oldest; returns true if it did.
    bool push_overwriting(T value)
    {
        bool dropped = is_full();
        if (dropped) {
            slot(m_head)->~T();
            ++m_head;
            ++m_overwritten;
        }
        new (slot(m_tail)) T(kstd::move(value));
        ++m_tail;
        return dropped;
    }

    // Removes and returns the oldest element, if any.
    Optional<T> pop()
    {
        if (is_empty())
            return {};
        T* oldest = slot(m_head);
        Optional<T> value(kstd::move(*oldest));
        oldest->~T();
        ++m_head;
        return value;
    }

    // The oldest element, or nullptr when empty.
    T* peek() { return is_empty() ? nullptr : slot(m_head); }
    // The index-th element counting from the oldest.
    T& at(size_t index)
    {
        VERIFY(index < size());
        return *slot(m_head + index);
    }

    void clear()
    {
        while (!is_empty()) {
            slot(m_head)->~T();
            ++m_head;
        }
    }

private:
    // Indices run freely and wrap at 2^64; only the low bits pick a slot,
    // so size() = tail - head holds across the wrap.
    T* slot(size_t index) { return kstd::launder(reinterpret_cast<T*>(m_storage) + (index & (N - 1))); }

    alignas(T) unsigned char m_storage[sizeof(T) * N];
    size_t m_head { 0 };
    size_t m_tail { 0 };
    size_t m_overwritten { 0 };
};

} // namespace tessera
