#pragma once
// The identifiers of the CM: GIDs (IPv4-mapped IPv6 addresses on RoCE v2),
// RDMA CM service IDs (port space + port), Linux-style transaction IDs and
// the 4.096 us x 2^t time encoding (docs/wire/rdma-cm.md 3.2, 5.1, 5.3, 6.5, 6.6).

#include <kernel/lib/kstd.h>
#include <kernel/lib/optional.h>
#include <net/inet/lib/addresses.h>

namespace tessera::rdma::cm {

struct Gid {
    uint8_t bytes[16] {};
    constexpr bool operator==(const Gid&) const = default;
};

// ::ffff:a.b.c.d (rdma_ip2gid): the REQ's GID fields use this form.
constexpr Gid gid_from_ipv4(Ipv4Address ip)
{
    Gid gid;
    gid.bytes[10] = 0xff;
    gid.bytes[11] = 0xff;
    for (size_t i = 0; i < 4; ++i)
        gid.bytes[12 + i] = ip.octets[i];
    return gid;
}

// The IPv4 address of an IPv4-mapped GID; empty for any other GID.
inline Optional<Ipv4Address> ipv4_from_gid(const Gid& gid)
{
    for (size_t i = 0; i < 10; ++i) {
        if (gid.bytes[i] != 0)
            return {};
    }
    if (gid.bytes[10] != 0xff || gid.bytes[11] != 0xff)
        return {};
    return Ipv4Address { { gid.bytes[12], gid.bytes[13], gid.bytes[14], gid.bytes[15] } };
}

// enum rdma_ucm_port_space (uapi rdma_user_cm.h); only TCP (RC) is served.
constexpr uint16_t rdma_ps_tcp = 0x0106;

constexpr uint64_t service_id_for(uint16_t port_space, uint16_t port)
{
    return static_cast<uint64_t>(port_space) << 16 | port;
}
constexpr uint64_t tcp_service_id(uint16_t port) { return service_id_for(rdma_ps_tcp, port); }
constexpr bool is_tcp_service_id(uint64_t service_id) { return (service_id >> 16) == rdma_ps_tcp; }
constexpr uint16_t port_from_service_id(uint64_t service_id) { return static_cast<uint16_t>(service_id); }

// ib_cm's MAD agent number on every Linux guest seen (3.2).
constexpr uint32_t linux_cm_agent_hi_tid = 2;

// cm_form_tid: the agent number, then the local comm ID with its bytes
// reversed (Linux widens the big-endian ID as a little-endian integer).
constexpr uint64_t form_tid(uint32_t local_comm_id, uint32_t hi_tid = linux_cm_agent_hi_tid)
{
    return static_cast<uint64_t>(hi_tid) << 32 | __builtin_bswap32(local_comm_id);
}

// cm_convert_to_ms: a 5-bit time code t is 4.096 us x 2^t, rounded to
// 2^(t-8) ms as Linux does (never below 1 ms).
constexpr uint64_t cm_time_ms(uint8_t code) { return code <= 8 ? 1 : uint64_t { 1 } << (code - 8); }
constexpr uint64_t cm_time_ns(uint8_t code) { return cm_time_ms(code) * 1'000'000; }

// cm_ack_timeout (core/cm.c:932): the local ACK timeout code of a QP whose
// peer advertised `target_ack_delay`, over a path of `packet_lifetime`.
constexpr uint8_t cm_ack_timeout(uint8_t target_ack_delay, uint8_t packet_lifetime)
{
    unsigned a = packet_lifetime + 1u;
    unsigned d = target_ack_delay;
    unsigned result = a >= d ? a + (d >= a - 1 ? 1 : 0) : d + (a >= d - 1 ? 1 : 0);
    return static_cast<uint8_t>(result > 31 ? 31 : result);
}

// cma_get_roce_udp_flow_label for IPv4: the REQ's flow label from the
// RDMA CM source and destination ports (5.5).
constexpr uint32_t roce_flow_label(uint16_t source_port, uint16_t destination_port)
{
    return (static_cast<uint32_t>(source_port) * 31 + destination_port) & 0xFFFFF;
}

} // namespace tessera::rdma::cm
