#pragma once
// ARP for IPv4 over Ethernet (RFC 826): the only hardware/protocol pair we
// speak, so every other htype/ptype/hlen/plen is rejected.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>
#include <net/inet/lib/addresses.h>

namespace tessera {

constexpr size_t arp_packet_size = 28;

enum class ArpOperation : uint16_t {
    Request = 1,
    Reply = 2,
};

struct ArpPacket {
    ArpOperation operation { ArpOperation::Request };
    MacAddress sender_mac;
    Ipv4Address sender_ip;
    MacAddress target_mac; // Ignored (zero) in a request.
    Ipv4Address target_ip;
};

// Reads the first 28 bytes (trailing Ethernet padding is allowed). EINVAL for
// a short packet, a hardware type other than 1, a protocol type other than
// 0x0800, lengths other than 6 and 4, or an opcode other than 1 or 2.
ErrorOr<ArpPacket> decode_arp(Span<const uint8_t> packet);

// Writes 28 bytes; ERANGE when `out` is shorter.
ErrorOr<size_t> encode_arp(const ArpPacket& packet, Span<uint8_t> out);

// The reply a host owning `our_mac` sends to `request`.
ArpPacket make_arp_reply(const ArpPacket& request, MacAddress our_mac);

} // namespace tessera
