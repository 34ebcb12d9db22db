#pragma once
// Network byte order (big-endian) loads and stores on byte spans. Headers are
// read field by field from bytes, never through a cast struct, so alignment
// and host endianness never matter. Callers check the span's length first;
// the indexing VERIFYs it anyway.

#include <kernel/lib/kstd.h>
#include <kernel/lib/span.h>
#include <net/inet/lib/addresses.h>

namespace tessera {

// A big-endian field of `count` bytes (1 to 8): the odd widths of the
// transport headers (24-bit QPNs and PSNs) and the 64-bit RETH address.
inline uint64_t load_be(Span<const uint8_t> bytes, size_t offset, size_t count)
{
    uint64_t value = 0;
    for (size_t i = 0; i < count; ++i)
        value = value << 8 | bytes[offset + i];
    return value;
}

inline void store_be(Span<uint8_t> bytes, size_t offset, size_t count, uint64_t value)
{
    for (size_t i = 0; i < count; ++i)
        bytes[offset + i] = static_cast<uint8_t>(value >> (8 * (count - 1 - i)));
}

inline uint16_t load_be16(Span<const uint8_t> bytes, size_t offset)
{
    return static_cast<uint16_t>(load_be(bytes, offset, 2));
}

inline uint32_t load_be32(Span<const uint8_t> bytes, size_t offset)
{
    return static_cast<uint32_t>(load_be(bytes, offset, 4));
}

inline void store_be16(Span<uint8_t> bytes, size_t offset, uint16_t value) { store_be(bytes, offset, 2, value); }

inline void store_be32(Span<uint8_t> bytes, size_t offset, uint32_t value) { store_be(bytes, offset, 4, value); }

inline MacAddress load_mac(Span<const uint8_t> bytes, size_t offset)
{
    MacAddress mac;
    for (size_t i = 0; i < 6; ++i)
        mac.octets[i] = bytes[offset + i];
    return mac;
}

inline void store_mac(Span<uint8_t> bytes, size_t offset, MacAddress mac)
{
    for (size_t i = 0; i < 6; ++i)
        bytes[offset + i] = mac.octets[i];
}

inline Ipv4Address load_ipv4(Span<const uint8_t> bytes, size_t offset)
{
    Ipv4Address ip;
    for (size_t i = 0; i < 4; ++i)
        ip.octets[i] = bytes[offset + i];
    return ip;
}

inline void store_ipv4(Span<uint8_t> bytes, size_t offset, Ipv4Address ip)
{
    for (size_t i = 0; i < 4; ++i)
        bytes[offset + i] = ip.octets[i];
}

} // namespace tessera
