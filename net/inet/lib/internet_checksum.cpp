#include <net/inet/lib/internet_checksum.h>

namespace tessera {

uint32_t internet_checksum_add(uint32_t sum, Span<const uint8_t> bytes)
{
    size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) {
        sum += static_cast<uint32_t>(bytes[i] << 8 | bytes[i + 1]);
        // Fold as we go: a 64 KiB region cannot overflow 32 bits, but a
        // caller chaining many regions could.
        sum = (sum & 0xffff) + (sum >> 16);
    }
    if (i < bytes.size())
        sum += static_cast<uint32_t>(bytes[i] << 8);
    return sum;
}

uint16_t internet_checksum_finish(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

} // namespace tessera
