#pragma once
// Where the engine's packets go: whole IPv4 packets (the kernel glue hands
// them to send_ipv4_packet(), which ARP-resolves and prepends Ethernet; host
// tests put them on a SimulatedLink). transmit() must copy the bytes before
// returning. An error counts as a lost packet: retransmission covers it.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>

namespace tessera::rdma {

class PacketSink {
public:
    virtual ~PacketSink() = default;
    virtual ErrorOr<void> transmit(Span<const uint8_t> ip_packet) = 0;
};

} // namespace tessera::rdma
