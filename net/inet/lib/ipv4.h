#pragma once
// IPv4 headers (RFC 791). We never fragment and never reassemble: the fabric
// sends DF datagrams that fit the MTU, so a fragment (MF set or a non-zero
// offset) is rejected rather than half-handled.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>
#include <net/inet/lib/addresses.h>

namespace tessera {

constexpr size_t ipv4_minimum_header_size = 20;
constexpr size_t ipv4_maximum_header_size = 60;

enum class IpProtocol : uint8_t {
    Icmp = 1,
    Udp = 17,
};

struct Ipv4Header {
    uint8_t dscp_ecn { 0 }; // The old type-of-service byte, as is.
    uint16_t identification { 0 };
    bool dont_fragment { true };
    uint8_t ttl { 64 };
    uint8_t protocol { 0 }; // Raw, so that an unknown protocol can be counted.
    Ipv4Address source;
    Ipv4Address destination;
};

struct Ipv4Datagram {
    Ipv4Header header;
    size_t header_size { 0 }; // With options, which are skipped, not parsed.
    Span<const uint8_t> payload; // Cut to the total length (drops Ethernet padding).
};

// EINVAL for: a buffer shorter than 20 bytes, a version other than 4, an IHL
// below 5 or past the buffer, a total length below the header or past the
// buffer, a wrong header checksum, the reserved flag, a fragment, or TTL 0.
ErrorOr<Ipv4Datagram> decode_ipv4(Span<const uint8_t> packet);

// Writes a 20-byte header (no options) for a payload of `payload_size` bytes,
// with its checksum. ERANGE when `out` is shorter than 20 bytes, EMSGSIZE when
// the datagram would exceed 65535 bytes.
ErrorOr<size_t> encode_ipv4(const Ipv4Header& header, size_t payload_size, Span<uint8_t> out);

} // namespace tessera
