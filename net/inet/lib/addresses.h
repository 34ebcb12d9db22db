#pragma once
// The two address types of the stack. An IPv4 address is kept as a host-order
// integer (192.0.2.1 is 0xc0000201) so that masks and comparisons are plain
// arithmetic; it is converted only when loaded from or stored to a header.

#include <kernel/lib/kstd.h>

namespace tessera {

struct MacAddress {
    uint8_t octets[6] {};

    static constexpr MacAddress broadcast() { return { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } }; }
    constexpr bool operator==(const MacAddress&) const = default;
};

struct Ipv4Address {
    uint32_t value { 0 };

    static constexpr Ipv4Address from_octets(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
    {
        return { static_cast<uint32_t>(a) << 24 | static_cast<uint32_t>(b) << 16 | static_cast<uint32_t>(c) << 8 | d };
    }
    constexpr bool operator==(const Ipv4Address&) const = default;
};

} // namespace tessera
