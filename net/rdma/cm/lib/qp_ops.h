#pragma once
// What the CM needs from the verbs engine: create an RC QP, walk it through
// INIT, RTR and RTS with the attributes the CM derived from the REQ and REP
// (qp_attributes.h), move it to ERR on disconnect and destroy it when the
// connection is gone. net/rdma (the RoCE engine) implements it; host tests
// use a fake that records the calls.

#include <kernel/lib/error_or.h>
#include <net/inet/lib/addresses.h>

namespace tessera::rdma::cm {

// ibv_access_flags values, so the engine can pass them through.
enum QpAccess : uint32_t {
    QpAccessLocalWrite = 1,
    QpAccessRemoteWrite = 2,
    QpAccessRemoteRead = 4,
    QpAccessRemoteAtomic = 8,
};

struct QpInitAttributes {
    uint32_t access_flags { 0 }; // QpAccess bits
    uint16_t pkey_index { 0 };
};

struct QpRtrAttributes {
    // The address vector: RoCE v2 over IPv4, so the GIDs are the addresses.
    Ipv4Address source {};
    Ipv4Address destination {};
    uint32_t flow_label { 0 }; // 20 bits; rxe derives the UDP source port from it
    uint8_t traffic_class { 0 };
    uint8_t hop_limit { 64 };
    uint8_t path_mtu { 3 }; // IB enum: 1 = 256 ... 5 = 4096
    uint32_t dest_qpn { 0 };
    uint32_t rq_psn { 0 };
    uint8_t max_dest_rd_atomic { 0 };
    uint8_t min_rnr_timer { 0 }; // Linux leaves 0 (655.36 ms) on CM QPs
};

struct QpRtsAttributes {
    uint32_t sq_psn { 0 };
    uint8_t timeout { 19 }; // local ACK timeout code
    uint8_t retry_count { 7 };
    uint8_t rnr_retry { 7 };
    uint8_t max_rd_atomic { 0 };
};

class CmQpOps {
public:
    virtual ~CmQpOps() = default;

    // A new RC QP in RESET; returns its QPN. `context` is the caller's value
    // from CmConnectParams/CmAcceptParams (which PD and CQs to use).
    virtual ErrorOr<uint32_t> create_rc_qp(uint64_t context) = 0;
    virtual ErrorOr<void> modify_to_init(uint32_t qpn, const QpInitAttributes& attributes) = 0;
    virtual ErrorOr<void> modify_to_rtr(uint32_t qpn, const QpRtrAttributes& attributes) = 0;
    virtual ErrorOr<void> modify_to_rts(uint32_t qpn, const QpRtsAttributes& attributes) = 0;
    // Flushes outstanding work; cannot fail from the CM's point of view.
    virtual void modify_to_error(uint32_t qpn) = 0;
    virtual void destroy_qp(uint32_t qpn) = 0;
};

} // namespace tessera::rdma::cm
