#pragma once
// UDP over IPv4 (RFC 768). The checksum covers a pseudo-header of the IPv4
// addresses, protocol and UDP length; a zero checksum means "not computed"
// and is accepted, and a computed 0 is sent as 0xffff.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>
#include <net/inet/lib/addresses.h>

namespace tessera {

constexpr size_t udp_header_size = 8;

struct UdpDatagram {
    uint16_t source_port { 0 };
    uint16_t destination_port { 0 };
    Span<const uint8_t> payload;
};

// `ip_payload` is the IPv4 payload (already cut to the total length). EINVAL
// for a buffer shorter than the header, a UDP length below 8 or different
// from the IP payload, or a non-zero checksum that does not verify.
ErrorOr<UdpDatagram> decode_udp(Span<const uint8_t> ip_payload, Ipv4Address source, Ipv4Address destination);

// `datagram` holds 8 bytes of room for the header followed by the payload,
// already in place; fills in the header and the checksum. EINVAL when it is
// shorter than 8 bytes, EMSGSIZE when longer than 65535.
ErrorOr<size_t> encode_udp(Ipv4Address source, Ipv4Address destination, uint16_t source_port, uint16_t destination_port,
    Span<uint8_t> datagram);

// The checksum field's value for `datagram` (with its checksum field zero).
uint16_t udp_checksum(Ipv4Address source, Ipv4Address destination, Span<const uint8_t> datagram);

} // namespace tessera
