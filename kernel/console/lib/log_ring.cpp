#include <kernel/console/lib/log_ring.h>

namespace tessera {

bool LogRing::push(const char* chars, size_t count)
{
    if (count == 0)
        return true;
    if (count > max_record)
        count = max_record;
    if (header_size + count > m_capacity - used_bytes())
        return false;
    write_byte(m_head, static_cast<uint8_t>(count));
    write_byte(m_head + 1, static_cast<uint8_t>(count >> 8));
    for (size_t i = 0; i < count; ++i)
        write_byte(m_head + header_size + i, static_cast<uint8_t>(chars[i]));
    m_head += header_size + count;
    return true;
}

size_t LogRing::pop(char* out, size_t capacity)
{
    if (is_empty())
        return 0;
    size_t length = static_cast<size_t>(read_byte(m_tail)) | static_cast<size_t>(read_byte(m_tail + 1)) << 8;
    size_t copy = length < capacity ? length : capacity;
    for (size_t i = 0; i < copy; ++i)
        out[i] = static_cast<char>(read_byte(m_tail + header_size + i));
    m_tail += header_size + length;
    return length;
}

} // namespace tessera
