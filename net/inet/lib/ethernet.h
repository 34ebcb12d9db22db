#pragma once
// Ethernet II framing (IEEE 802.3 with an EtherType). The frame check
// sequence is the NIC's business and never reaches us. 802.1Q VLAN tags are
// not supported: a tagged frame is rejected, not misread as its inner type.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>
#include <net/inet/lib/addresses.h>

namespace tessera {

constexpr size_t ethernet_header_size = 14;

enum class EtherType : uint16_t {
    Ipv4 = 0x0800,
    Arp = 0x0806,
};

struct EthernetHeader {
    MacAddress destination;
    MacAddress source;
    uint16_t ether_type { 0 }; // Raw, so that an unknown type can be counted.
};

struct EthernetFrame {
    EthernetHeader header;
    Span<const uint8_t> payload;
};

// EINVAL for a frame shorter than the header, an 802.1Q/802.1ad tag, or a
// length field (< 0x0600: 802.3 without an EtherType).
ErrorOr<EthernetFrame> decode_ethernet(Span<const uint8_t> frame);

// Writes the 14-byte header at the start of `out`; ERANGE when it is shorter.
ErrorOr<size_t> encode_ethernet(const EthernetHeader& header, Span<uint8_t> out);

} // namespace tessera
