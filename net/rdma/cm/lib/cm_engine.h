#pragma once
// CmEngine: the IB CM and the RDMA CM (RDMA_PS_TCP, RC only) as Linux 6.1
// speaks them over RoCE v2 (docs/wire/rdma-cm.md), portable and
// event-driven: the caller passes every received MAD to on_mad(), calls
// poll() at next_deadline_ns(), and takes events with take_event(). No
// clock, thread or lock inside; the kernel glue wraps it in one lock of
// rank RdmaCm. MADs leave through a CmMadSink (QP 1 of the RoCE engine),
// and QPs are created and moved through a CmQpOps.
//
//   auto cm = TRY(CmEngine::try_create(config, mad_sink, qp_ops));
//   TRY(cm->listen(7174));
//   cm->on_mad(source_ip, mad, now);          // from QP 1
//   while (auto event = cm->take_event()) ... // ConnectRequest -> accept()
//
// Malformed or unexpected MADs are dropped and counted by reason
// (counters().drops), never trusted and never a crash.

#include <kernel/lib/error_or.h>
#include <kernel/lib/optional.h>
#include <kernel/lib/own_ptr.h>
#include <kernel/lib/ring_buffer.h>
#include <kernel/lib/vector.h>
#include <net/rdma/cm/lib/cm_connection.h>
#include <net/rdma/cm/lib/cm_event.h>
#include <net/rdma/cm/lib/cm_messages.h>
#include <net/rdma/cm/lib/mad_sink.h>
#include <net/rdma/cm/lib/qp_ops.h>

namespace tessera::rdma::cm {

struct CmConfig {
    Ipv4Address local_ip {};
    uint64_t ca_guid { 0 }; // rxe: the EUI-64 of the MAC
    uint64_t random_seed { 1 }; // comm IDs, PSNs, ephemeral ports
    size_t max_connections { 64 };
    size_t max_listeners { 16 };
    // Linux's RDMA CM values (core/cma.c:47-50), which both sides send.
    uint8_t path_mtu { 3 }; // 1024, for a 1500-byte link
    uint8_t cm_response_timeout { 20 }; // 4096 ms
    uint8_t max_cm_retries { 15 };
    uint8_t packet_lifetime { 18 };
    uint8_t target_ack_delay { 15 }; // rxe's local_ca_ack_delay
    uint8_t retry_count { 7 };
    uint8_t rnr_retry_count { 7 };
    uint8_t mra_service_timeout { 24 }; // CMA_CM_MRA_SETTING
    uint8_t hop_limit { 64 };
    uint32_t hi_tid { linux_cm_agent_hi_tid };
};

struct CmConnectParams {
    Ipv4Address peer {};
    uint16_t port { 0 }; // the listener's
    uint16_t local_port { 0 }; // the cma_hdr's source port; 0 picks one
    uint8_t responder_resources { 1 };
    uint8_t initiator_depth { 1 };
    Span<const uint8_t> private_data; // at most 56 bytes
    uint64_t qp_context { 0 }; // handed to CmQpOps::create_rc_qp
};

struct CmAcceptParams {
    // Clamped to what the REQ offers, as librdmacm does.
    uint8_t responder_resources { 1 };
    uint8_t initiator_depth { 1 };
    Span<const uint8_t> private_data; // at most 196 bytes
    uint64_t qp_context { 0 };
};

struct CmCounters {
    uint64_t rx[7] {}; // by attribute, REQ (0x10) .. DREP (0x16), once past the header
    uint64_t tx[7] {};
    uint64_t retransmits { 0 };
    uint64_t duplicates { 0 };
    uint64_t rejects_sent { 0 };
    uint64_t bad_cma_headers { 0 }; // REQs refused with REJ 28 for their private data
    uint64_t events_lost { 0 }; // the event queue was full
    uint64_t drops[cm_drop_count] {};

    uint64_t dropped(CmDrop reason) const { return drops[static_cast<size_t>(reason)]; }
    uint64_t received(CmAttribute a) const { return rx[static_cast<uint16_t>(a) - 0x10]; }
    uint64_t sent(CmAttribute a) const { return tx[static_cast<uint16_t>(a) - 0x10]; }
};

class CmEngine {
public:
    static ErrorOr<OwnPtr<CmEngine>> try_create(const CmConfig& config, CmMadSink& sink, CmQpOps& qp_ops);

    // Listeners by exact service ID (RDMA_PS_TCP + port), bound to
    // config.local_ip. EADDRINUSE, ENOSPC.
    ErrorOr<void> listen(uint16_t port);
    void stop_listening(uint16_t port);

    // Active side: creates the QP (INIT), sends the REQ. EINVAL for too much
    // private data, ENOSPC when the table is full, or the QP ops' error.
    ErrorOr<CmConnectionId> connect(const CmConnectParams& params, uint64_t now_ns);
    // Passive side, after ConnectRequest: creates the QP, moves it to RTS,
    // sends the REP. If the QP cannot be set up the REQ gets REJ 28 and the
    // error comes back. EINVAL when `id` is not waiting for an answer.
    ErrorOr<void> accept(CmConnectionId id, const CmAcceptParams& params, uint64_t now_ns);
    // REJ 28 (consumer defined) for a ConnectRequest not yet accepted.
    ErrorOr<void> reject(CmConnectionId id, uint64_t now_ns);
    // Established: QP to ERR, DREQ (retransmitted until the DREP). While
    // still connecting: abandons the attempt (REJ 4 for our REQ).
    ErrorOr<void> disconnect(CmConnectionId id, uint64_t now_ns);

    // One MAD from QP 1: the 256 bytes after the DETH, and the IPv4 source.
    void on_mad(Ipv4Address source, Span<const uint8_t> mad, uint64_t now_ns);
    // Fires every timer due at now_ns (retransmissions, expiries).
    void poll(uint64_t now_ns);
    // The earliest armed timer, or UINT64_MAX when none is.
    uint64_t next_deadline_ns() const;

    Optional<CmEvent> take_event() { return m_events.pop(); }
    size_t pending_events() const { return m_events.size(); }
    const CmCounters& counters() const { return m_counters; }
    // For tests and diagnostics; Free for an unknown ID.
    CmState state_of(CmConnectionId id) const;
    size_t live_connections() const;

private:
    CmEngine(const CmConfig& config, CmMadSink& sink, CmQpOps& qp_ops)
        : m_config(config)
        , m_sink(sink)
        , m_qp_ops(qp_ops)
        , m_random(config.random_seed | 1)
    {
    }

    // Receive handlers, one per message (cm_engine_passive/active/disconnect.cpp).
    CmDrop handle_req(Ipv4Address source, const MadHeader& header, Span<const uint8_t> mad, uint64_t now_ns);
    CmDrop handle_rep(Span<const uint8_t> mad, uint64_t now_ns);
    CmDrop handle_rtu(Span<const uint8_t> mad);
    CmDrop handle_rej(Span<const uint8_t> mad, uint64_t now_ns);
    CmDrop handle_mra(Span<const uint8_t> mad, uint64_t now_ns);
    CmDrop handle_dreq(Ipv4Address source, const MadHeader& header, Span<const uint8_t> mad, uint64_t now_ns);
    CmDrop handle_drep(Span<const uint8_t> mad, uint64_t now_ns);

    // REQ checks of the RDMA CM layer; a non-zero reason means "REJ it".
    uint16_t refuse_reason(const CmReq& req);
    void send_reject(Ipv4Address destination, uint64_t transaction_id, uint32_t local_id, uint32_t remote_id,
        CmMessageKind kind, RejectReason reason);
    ErrorOr<void> set_up_passive_qp(CmConnection& connection, const CmAcceptParams& params);
    void expire(CmConnection& connection, uint64_t now_ns);
    void start_dreq(CmConnection& connection, uint64_t now_ns);

    // Shared machinery (cm_engine.cpp).
    CmConnection* find_local(uint32_t local_id);
    const CmConnection* find_local(uint32_t local_id) const;
    CmConnection* find_both(uint32_t local_id, uint32_t remote_id);
    CmConnection* find_remote(uint32_t remote_id, uint64_t remote_ca_guid);
    CmConnection* find_remote_qpn(uint32_t remote_qpn, uint64_t remote_ca_guid);
    CmConnection* allocate();
    void release(CmConnection& connection);
    void enter_timewait(CmConnection& connection, uint64_t now_ns);
    void transmit(Ipv4Address destination, CmAttribute attribute, Span<const uint8_t> mad);
    // Sends `mad` and keeps it for retransmission every `interval_ns`.
    void transmit_with_retries(CmConnection& connection, CmAttribute attribute, Span<const uint8_t> mad,
        uint64_t interval_ns, uint8_t retries, uint64_t now_ns);
    void stop_timer(CmConnection& connection) { connection.timer_armed = false; }
    void emit(const CmConnection& connection, CmEventType type, uint16_t reject_reason = 0,
        Span<const uint8_t> private_data = {});
    uint32_t next_random();
    uint32_t new_local_id();
    uint64_t tid_for(uint32_t local_id) const { return form_tid(local_id, m_config.hi_tid); }
    uint64_t req_timeout_ns() const;
    uint64_t rep_timeout_ns(const CmReq& req) const { return cm_time_ns(req.local_cm_response_timeout); }

    CmConfig m_config;
    CmMadSink& m_sink;
    CmQpOps& m_qp_ops;
    uint64_t m_random;
    Vector<CmConnection> m_connections;
    Vector<uint16_t> m_listeners;
    RingBuffer<CmEvent, 64> m_events;
    CmCounters m_counters;
};

} // namespace tessera::rdma::cm
