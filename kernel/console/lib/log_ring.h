#pragma once
// The kernel log ring: whole lines (records) in a byte ring, so a printing
// CPU only copies its line in under the console lock and the slow UART
// write happens outside it. Records are a 16-bit length and the bytes; a
// record is taken out whole or not at all, which keeps KTAP lines whole.
// Not synchronized: the console wraps it in its lock.

#include <kernel/lib/kstd.h>

namespace tessera {

class LogRing {
public:
    // `buffer` must outlive the ring; its size need not be a power of two.
    constexpr LogRing(uint8_t* buffer, size_t capacity)
        : m_buffer(buffer)
        , m_capacity(capacity)
    {
    }

    // The longest record: longer writes are cut to this many bytes.
    static constexpr size_t max_record = 1024;

    // False (and nothing stored) when there is no room for the record. An
    // empty write stores nothing and succeeds.
    bool push(const char* chars, size_t count);
    // Copies the oldest record into `out` (cut to `capacity`), removes it
    // and returns its stored length; 0 when the ring is empty.
    size_t pop(char* out, size_t capacity);

    bool is_empty() const { return m_head == m_tail; }
    size_t used_bytes() const { return static_cast<size_t>(m_head - m_tail); }

private:
    static constexpr size_t header_size = 2;
    void write_byte(uint64_t position, uint8_t byte) { m_buffer[position % m_capacity] = byte; }
    uint8_t read_byte(uint64_t position) const { return m_buffer[position % m_capacity]; }

    uint8_t* m_buffer;
    size_t m_capacity;
    // Free-running byte positions: head is where the next record goes, tail
    // the oldest record. 64 bits never wrap in practice.
    uint64_t m_head { 0 };
    uint64_t m_tail { 0 };
};

} // namespace tessera
