#pragma once
// Whole RoCE v2 packets as the engine emits and accepts them: IPv4 (IHL 5,
// DF, TOS/TTL from the address vector, an incrementing ID) / UDP (dst 4791,
// src 0xC000 | flow hash, checksum 0 as rxe sends) / BTH / extension headers
// / payload / pad / ICRC (docs/wire/roce-v2.md "Encapsulation", "ICRC").
// parse_roce_packet() checks everything that needs no QP: lengths, IPv4 and
// UDP framing, port, ICRC, opcode and BTH fields; the engine checks the rest.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>
#include <net/inet/lib/addresses.h>
#include <net/rdma/lib/roce_counters.h>
#include <net/rdma/lib/transport_headers.h>

namespace tessera::rdma {

inline constexpr uint16_t roce_udp_port = 4791;
inline constexpr size_t roce_overhead = 20 + 8; // IPv4 + UDP
// The largest packet the engine builds: headers + 4096 bytes + pad + ICRC.
inline constexpr size_t roce_max_packet_size
    = roce_overhead + bth_size + deth_size + reth_size + immdt_size + 4096 + 3 + icrc_size;

struct PacketAddressing {
    Ipv4Address source;
    Ipv4Address destination;
    uint8_t traffic_class { 0 };
    uint8_t hop_limit { 64 };
    uint16_t identification { 0 };
    uint16_t udp_source_port { 0xC000 };
};

struct ReceivedPacket {
    PacketAddressing addressing;
    DecodedPacket transport;
    Span<const uint8_t> ip_header; // 20 bytes (UD receives copy it into the GRH area)
};

struct ParsedPacket {
    DropReason reason { DropReason::None }; // None: `packet` is valid
    ReceivedPacket packet;
};

ParsedPacket parse_roce_packet(Span<const uint8_t> ip_packet, Ipv4Address local);

// Builds the whole IPv4 packet into `out`; returns its size.
ErrorOr<size_t> build_roce_packet(const PacketAddressing& addressing, const TransportHeaders& headers,
    Span<const uint8_t> payload, Span<uint8_t> out);

// rxe's UDP source port for a flow label of 0: lqpn * rqpn folded to 20 bits,
// then to 14 bits over 0xC000 (rdma_get_udp_sport in include/rdma/ib_verbs.h).
uint16_t roce_udp_source_port(uint32_t local_qpn, uint32_t remote_qpn);

} // namespace tessera::rdma
