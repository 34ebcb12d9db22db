#pragma once
// What the CM tells its user, pulled with CmEngine::take_event() (a queue,
// not a callback, so the user may call back into the engine while handling
// an event without re-entering it, and the kernel glue can deliver events
// outside its lock).

#include <net/inet/lib/addresses.h>
#include <net/rdma/cm/lib/cm_rep.h>

namespace tessera::rdma::cm {

// A connection's handle: its local comm ID, unique while the connection lives.
using CmConnectionId = uint32_t;

enum class CmEventType : uint8_t {
    ConnectRequest, // passive: a REQ for a port we listen on; answer with accept() or reject()
    Established, // the QP is RTS and the peer knows it (RTU sent or received)
    Rejected, // the peer refused (reject_reason), or our QP could not be set up
    Disconnected, // DREQ/DREP exchanged (or the DREQ ran out of retries); the QP is in ERR
    TimedOut, // no REP (active) or no RTU (passive) after every retransmission
};

struct CmEvent {
    CmEventType type { CmEventType::ConnectRequest };
    CmConnectionId id { 0 };
    uint32_t qpn { 0 }; // our QP, once there is one
    uint32_t peer_qpn { 0 };
    Ipv4Address peer {};
    uint16_t local_port { 0 }; // the RDMA CM ports (service ID port, cma_hdr port)
    uint16_t peer_port { 0 };
    uint16_t reject_reason { 0 }; // Rejected: the REJ's reason (RejectReason)
    // ConnectRequest: what the REQ offers, already seen from our side (our
    // responder resources are its initiator depth, and vice versa).
    uint8_t responder_resources { 0 };
    uint8_t initiator_depth { 0 };
    // The user's private data: 56 bytes after the cma_hdr of a REQ, a REP's
    // 196, a REJ's 148. The wire has no length, so this is the whole field.
    uint8_t private_data[rep_private_data_size] {};
    uint16_t private_data_size { 0 };
};

} // namespace tessera::rdma::cm
