#pragma once
// What a UDP port binding receives. The RoCE provider needs the whole IPv4
// packet (its ICRC covers the IPv4 and UDP headers), ordinary users the
// decoded addresses, ports and payload; a handler gets both.

#include <kernel/lib/span.h>
#include <net/inet/lib/addresses.h>

namespace tessera {

struct UdpReceiveInfo {
    Ipv4Address source_ip;
    Ipv4Address destination_ip;
    uint16_t source_port { 0 };
    uint16_t destination_port { 0 };
    Span<const uint8_t> payload; // Inside ip_packet.
};

// `ip_packet` runs from the IPv4 header to the end of its total length
// (Ethernet padding cut off); every header in it has been validated,
// checksums included. Both spans are valid only during the call.
using UdpHandler = void (*)(void* context, Span<const uint8_t> ip_packet, const UdpReceiveInfo& info);

// A datagram for a bound port, handed back by Ipv4Interface::receive_frame()
// so that the caller can drop its lock before running the handler (which may
// send, and take locks ranked outside the stack's).
struct UdpDelivery {
    UdpHandler handler { nullptr };
    void* context { nullptr };
    Span<const uint8_t> ip_packet;
    UdpReceiveInfo info;

    void invoke() const { handler(context, ip_packet, info); }
};

} // namespace tessera
