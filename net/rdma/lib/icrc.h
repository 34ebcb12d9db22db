#pragma once
// The RoCE v2 invariant CRC (ICRC), exactly as docs/wire/roce-v2.md section
// "ICRC" describes Linux rxe's rxe_icrc.c: standard CRC-32 (IEEE 802.3,
// reflected 0xEDB88320, init all ones, final complement) over
//   8 bytes of 0xFF (the masked LRH RoCE v2 has no room for),
//   the IPv4 header with TOS, TTL and header checksum set to all ones,
//   the UDP header with its checksum set to all ones,
//   the BTH with byte 4 (FECN/BECN/reserved) set to all ones,
//   extension headers, payload and pad, up to the ICRC,
// stored little-endian in the packet's last 4 bytes, like an Ethernet FCS.
// IPv6 is not done yet (its masks are in the same doc section).

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>

namespace tessera::rdma {

inline constexpr size_t ipv4_header_size = 20; // rxe assumes IHL 5
inline constexpr size_t udp_header_size = 8;

// CRC-32 register update: feed `data` into `state` (not complemented).
// The CRC-32 of a message is ~crc32_update(0xFFFFFFFF, message).
uint32_t crc32_update(uint32_t state, Span<const uint8_t> data);
uint32_t crc32(Span<const uint8_t> data);

// The ICRC of `transport` (BTH up to, not including, the ICRC) carried in
// the given IPv4 and UDP headers. INVAL unless the IPv4 header is 20 bytes
// with version 4 / IHL 5 and the UDP header is 8 bytes.
ErrorOr<uint32_t> compute_icrc_ipv4(
    Span<const uint8_t> ip_header, Span<const uint8_t> udp_header, Span<const uint8_t> transport);

// Computes the ICRC of `packet` (BTH through ICRC slot) and stores it in its
// last 4 bytes.
ErrorOr<void> store_icrc_ipv4(Span<const uint8_t> ip_header, Span<const uint8_t> udp_header, Span<uint8_t> packet);

// Checks `packet` (BTH through ICRC) against its ICRC. Also checks that the
// IPv4 total length and UDP length both match the packet's size (MSGSIZE
// when a length lies: the ICRC covers them, but a caller that sliced by a
// lying length must not get a pass). PROTO for a wrong ICRC.
ErrorOr<void> verify_icrc_ipv4(
    Span<const uint8_t> ip_header, Span<const uint8_t> udp_header, Span<const uint8_t> packet);

} // namespace tessera::rdma
