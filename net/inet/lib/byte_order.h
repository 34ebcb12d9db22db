#pragma once
// Network byte order (big-endian) loads and stores on byte spans. Headers are
// read field by field from bytes, never through a cast struct, so alignment
// and host endianness never matter. Callers check the span's length first;
// the indexing VERIFYs it anyway.

#include <kernel/lib/kstd.h>
#include <kernel/lib/span.h>
#include <net/inet/lib/addresses.h>

namespace tessera {

inline uint16_t load_be16(Span<const uint8_t> bytes, size_t offset)
{
    return static_cast<uint16_t>(bytes[offset] << 8 | bytes[offset + 1]);
}

inline uint32_t load_be32(Span<const uint8_t> bytes, size_t offset)
{
    return static_cast<uint32_t>(bytes[offset]) << 24 | static_cast<uint32_t>(bytes[offset + 1]) << 16
        | static_cast<uint32_t>(bytes[offset + 2]) << 8 | static_cast<uint32_t>(bytes[offset + 3]);
}

inline void store_be16(Span<uint8_t> bytes, size_t offset, uint16_t value)
{
    bytes[offset] = static_cast<uint8_t>(value >> 8);
    bytes[offset + 1] = static_cast<uint8_t>(value);
}

inline void store_be32(Span<uint8_t> bytes, size_t offset, uint32_t value)
{
    bytes[offset] = static_cast<uint8_t>(value >> 24);
    bytes[offset + 1] = static_cast<uint8_t>(value >> 16);
    bytes[offset + 2] = static_cast<uint8_t>(value >> 8);
    bytes[offset + 3] = static_cast<uint8_t>(value);
}

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
