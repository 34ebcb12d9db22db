#pragma once
// ICMP echo (RFC 792): enough to answer ping. Other ICMP types are reported
// as unsupported so that the caller can count and drop them.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>

namespace tessera {

constexpr size_t icmp_echo_header_size = 8;
constexpr uint8_t icmp_type_echo_reply = 0;
constexpr uint8_t icmp_type_echo_request = 8;

struct IcmpEcho {
    uint8_t type { icmp_type_echo_request };
    uint16_t identifier { 0 };
    uint16_t sequence { 0 };
    Span<const uint8_t> data;
};

// `message` is the whole ICMP message (the IPv4 payload). EINVAL for a
// message shorter than 8 bytes, a bad checksum (over the whole message), or a
// non-zero code; ENOSYS for a type other than echo request or reply.
ErrorOr<IcmpEcho> decode_icmp_echo(Span<const uint8_t> message);

// Writes the echo reply to `request` (a whole ICMP message) into `out`: the
// same identifier, sequence and data, type 0, a fresh checksum. EINVAL when
// `request` is not a valid echo request, ERANGE when `out` is too short.
// `out` may be the request's own memory (a reply in place).
ErrorOr<size_t> build_icmp_echo_reply(Span<const uint8_t> request, Span<uint8_t> out);

} // namespace tessera
