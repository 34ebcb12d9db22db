#pragma once
// The two address types of the stack. Ipv4Address is the one the boot
// configuration already parses (tessera.ip=), octets in network order, so
// that a configured address goes onto the wire without conversion; one type
// for the whole tree (a second struct of the same name broke the ODR).

#include <kernel/config/lib/node_config.h>
#include <kernel/lib/kstd.h>

namespace tessera {

struct MacAddress {
    uint8_t octets[6] {};

    static constexpr MacAddress broadcast() { return { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } }; }
    constexpr bool operator==(const MacAddress&) const = default;
};

} // namespace tessera
