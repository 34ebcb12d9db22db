#pragma once
// RdmaNode: one RDMA "device" of a node, the RoCE engine (verbs, rxe0) and
// the CM (IB CM + RDMA CM) composed the way Linux composes rdma_rxe and
// rdma_cm: the CM's MADs travel as UD SEND_ONLY on the engine's GSI QP
// (QP 1, Q_Key 0x80010000), and the CM's QPs are the engine's RC QPs.
// Portable, event-driven, clock-free, lock-free: the caller serializes every
// call (the kernel glue, net/rdma/rdma_device.h, holds one lock of rank
// Rdma around the whole node) and passes the time in.
//
//   auto node = TRY(RdmaNode::try_create({ .local_ip = ip, .active_mtu = PathMtu::Mtu1024 }, sink));
//   auto* pd = TRY(node->engine().alloc_pd()); auto* cq = TRY(node->engine().create_cq(256));
//   TRY(node->listen(7174));                                  // passive
//   auto id = TRY(node->connect({ .peer = ip_b, .port = 7174, .qp = { .pd = pd, .send_cq = cq, .recv_cq = cq } },
//   now)); node->receive(ip_packet, now);  node->poll(now);  node->next_deadline_ns(); while (auto event =
//   node->take_event()) {
//       // ConnectRequest -> node->accept(event->id(), { .qp = {...} }, now) or reject()
//       // Established    -> event->qp: post_send/post_recv on it (then poll)
//   }
//
// STABLE (other parts build on it): everything declared in this header —
// RdmaNodeConfig, RdmaConnectParams, RdmaAcceptParams, RdmaEvent (a CmEvent
// plus the QueuePair*), the RdmaNode methods and their meaning,
// path_mtu_for_link_mtu(), ca_guid_from_mac(). Fields may be added with
// defaults; nothing here will be renamed or change meaning.
//
// QP lifetime: the CM owns a connection's QP. It exists from accept()/
// connect() until the connection ends; after Rejected/TimedOut it is gone
// (event qp is nullptr), after Disconnected it is in ERR (every posted WR
// flushed) and is destroyed when the CM's timewait ends (2048 ms later), so
// its CQs cannot be destroyed before then. After posting to a QP, call
// poll(now) (or let the driver do so): the engine only sends from poll().

#include <kernel/lib/error_or.h>
#include <kernel/lib/optional.h>
#include <kernel/lib/own_ptr.h>
#include <net/rdma/cm/lib/cm_engine.h>
#include <net/rdma/lib/roce_engine.h>
#include <net/rdma/node/lib/engine_qp_ops.h>
#include <net/rdma/node/lib/gsi_mad_port.h>

namespace tessera::rdma {

struct RdmaNodeConfig {
    Ipv4Address local_ip {};
    // The port's active MTU (path_mtu_for_link_mtu()); also the path MTU the
    // CM offers in its REQs and accepts at most.
    PathMtu active_mtu { PathMtu::Mtu1024 };
    uint64_t ca_guid { 0 }; // 0: derived from local_ip (the kernel passes ca_guid_from_mac())
    uint64_t seed { 0x5eed }; // the engine's keys and the CM's comm IDs / PSNs
    size_t gsi_receive_buffers { 32 }; // kept posted on QP 1
    size_t gsi_send_slots { 32 }; // MADs in flight on QP 1
};

struct RdmaConnectParams {
    Ipv4Address peer {};
    uint16_t port { 0 }; // the listener's
    // The connection's QP: PD and CQs (qp_type is ignored: always RC).
    QpInitAttr qp {};
    uint8_t responder_resources { 4 }; // READs the peer may have outstanding at us
    uint8_t initiator_depth { 4 }; // READs we may have outstanding at the peer
    Span<const uint8_t> private_data; // at most 56 bytes
    uint16_t local_port { 0 }; // the cma_hdr's source port; 0 picks one
};

struct RdmaAcceptParams {
    QpInitAttr qp {};
    uint8_t responder_resources { 4 }; // clamped to the REQ's offer
    uint8_t initiator_depth { 4 };
    Span<const uint8_t> private_data; // at most 196 bytes
};

struct RdmaEvent {
    cm::CmEvent cm; // type, id, peer, ports, reject_reason, private data
    // Established and Disconnected: the connection's QP (see QP lifetime
    // above); nullptr for the other events.
    QueuePair* qp { nullptr };

    cm::CmEventType type() const { return cm.type; }
    cm::CmConnectionId id() const { return cm.id; }
};

struct RdmaNodeCounters {
    uint64_t mads_received { 0 }; // handed to the CM
    uint64_t mads_sent { 0 }; // posted on QP 1
    uint64_t mad_bad_length { 0 }; // a QP 1 receive that was not GRH + 256 bytes
    uint64_t mad_receive_errors { 0 }; // a QP 1 receive completion with an error status
    uint64_t mad_send_no_slot { 0 }; // every send slot in flight: the MAD is lost (the CM retransmits)
    uint64_t mad_send_errors { 0 }; // post_send on QP 1 failed, or its completion did
};

// rxe's active MTU: the link MTU less 80 bytes of headers (IPv4 20, UDP 8,
// BTH 12, worst-case extension headers, ICRC), rounded down to an IB MTU;
// never below 256. 1500 -> 1024, 9000 -> 4096.
PathMtu path_mtu_for_link_mtu(uint32_t link_mtu);
// rxe's node GUID: the EUI-64 of the MAC (52:54:00:12:34:56 -> 0x505400fffe123456).
uint64_t ca_guid_from_mac(const uint8_t (&mac)[6]);

class RdmaNode {
public:
    static ErrorOr<OwnPtr<RdmaNode>> try_create(const RdmaNodeConfig& config, PacketSink& sink);
    ~RdmaNode();
    RdmaNode(const RdmaNode&) = delete;
    RdmaNode& operator=(const RdmaNode&) = delete;

    // The verbs: PDs, MRs, CQs, post_send/post_recv on a connection's QP.
    RoceEngine& engine() { return *m_engine; }
    const RoceEngine& engine() const { return *m_engine; }
    // The CM's counters and state queries (connections go through the node).
    const cm::CmEngine& cm() const { return *m_cm; }

    // As CmEngine (cm_engine.h), with the QP described by params.qp.
    ErrorOr<void> listen(uint16_t port);
    void stop_listening(uint16_t port);
    ErrorOr<cm::CmConnectionId> connect(const RdmaConnectParams& params, uint64_t now_ns);
    ErrorOr<void> accept(cm::CmConnectionId id, const RdmaAcceptParams& params, uint64_t now_ns);
    ErrorOr<void> reject(cm::CmConnectionId id, uint64_t now_ns);
    ErrorOr<void> disconnect(cm::CmConnectionId id, uint64_t now_ns);

    // A whole IPv4 packet from UDP port 4791.
    void receive(Span<const uint8_t> ip_packet, uint64_t now_ns);
    // Runs both engines' timers and sends what is queued (including WRs the
    // user posted since the last call).
    void poll(uint64_t now_ns);
    // The earlier of both engines' deadlines; 0 = poll now; no_deadline = idle.
    uint64_t next_deadline_ns() const;

    Optional<RdmaEvent> take_event();
    bool has_events() const { return m_cm->pending_events() != 0; }
    const RdmaNodeCounters& counters() const;

private:
    RdmaNode() = default;
    void pump(uint64_t now_ns);

    RdmaNodeCounters m_counters;
    OwnPtr<RoceEngine> m_engine;
    OwnPtr<GsiMadPort> m_gsi;
    OwnPtr<EngineQpOps> m_qp_ops;
    OwnPtr<cm::CmEngine> m_cm;
};

} // namespace tessera::rdma
