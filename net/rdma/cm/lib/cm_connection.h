#pragma once
// One connection's record inside CmEngine: the IB CM state (include/rdma/
// ib_cm.h enum ib_cm_state, reduced to the states RoCE RC reaches), the
// comm IDs and QPNs that key it, the REQ and REP it was built from, and the
// one retransmission timer every state needs at most.

#include <net/rdma/cm/lib/cm_rep.h>
#include <net/rdma/cm/lib/cm_req.h>
#include <net/rdma/cm/lib/mad_header.h>

namespace tessera::rdma::cm {

enum class CmState : uint8_t {
    Free, // the slot is unused
    ReqSent, // active: REQ out, REQ timer armed
    MraReqReceived, // active: the peer asked for more time
    ReqReceived, // passive: ConnectRequest raised, waiting for accept()/reject()
    RepSent, // passive: QP is RTS, REP out, REP timer armed
    Established,
    DreqSent, // QP in ERR, DREQ out, DREQ timer armed
    Timewait, // IDs kept to answer a late DREQ; the slot frees when it ends
};

struct CmConnection {
    CmState state { CmState::Free };
    bool active { false };
    bool has_qp { false };
    bool disconnect_reported { false };
    uint32_t local_id { 0 };
    uint32_t remote_id { 0 };
    uint64_t remote_ca_guid { 0 };
    uint64_t transaction_id { 0 }; // the REQ's: REP, RTU and MRA carry it
    uint32_t local_qpn { 0 };
    uint32_t remote_qpn { 0 };
    Ipv4Address peer {};
    uint16_t local_port { 0 };
    uint16_t peer_port { 0 };
    uint64_t qp_context { 0 };
    CmReq req; // sent (active) or received (passive)
    CmRep rep; // received (active) or sent (passive)

    // The one pending timer: a retransmission of `pending_mad` while
    // retries_left > 0, then the state's expiry (no answer, timewait over).
    bool timer_armed { false };
    uint64_t deadline_ns { 0 };
    uint64_t retry_interval_ns { 0 };
    uint8_t retries_left { 0 };
    uint8_t pending_mad[mad_size] {};

    // Whether the keys (remote comm ID, CA GUID) and (remote QPN, CA GUID)
    // still name this connection: Linux removes them at timewait (4.1).
    bool keyed() const { return state != CmState::Free && state != CmState::Timewait; }
};

} // namespace tessera::rdma::cm
