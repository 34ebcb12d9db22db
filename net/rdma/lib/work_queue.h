#pragma once
// A work queue: a fixed ring of WQEs addressed by ever-increasing sequence
// numbers, so the send queue's three cursors (completer head, requester
// position, producer tail) are plain integers that never wrap in practice
// and compare with <. Storage is allocated once, at QP creation; posting
// never allocates.

#include <kernel/lib/error_or.h>
#include <kernel/lib/vector.h>

namespace tessera::rdma {

template<typename T>
class WorkQueue {
public:
    ErrorOr<void> try_initialize(size_t capacity)
    {
        if (capacity == 0 || capacity > (1u << 16))
            return Error(Errno::INVAL, "work queue: depth out of range");
        TRY(m_slots.try_resize(capacity));
        return {};
    }

    size_t capacity() const { return m_slots.size(); }
    uint64_t head() const { return m_head; }
    uint64_t tail() const { return m_tail; }
    size_t count() const { return static_cast<size_t>(m_tail - m_head); }
    bool is_empty() const { return m_head == m_tail; }
    bool is_full() const { return count() == capacity(); }

    T& at(uint64_t sequence) { return m_slots[static_cast<size_t>(sequence % m_slots.size())]; }
    const T& at(uint64_t sequence) const { return m_slots[static_cast<size_t>(sequence % m_slots.size())]; }
    T& front() { return at(m_head); }

    // Callers check is_full() first.
    void push(const T& value)
    {
        VERIFY(!is_full());
        at(m_tail++) = value;
    }
    void pop()
    {
        VERIFY(!is_empty());
        ++m_head;
    }
    void clear() { m_head = m_tail; }

private:
    Vector<T> m_slots;
    uint64_t m_head { 0 };
    uint64_t m_tail { 0 };
};

} // namespace tessera::rdma
