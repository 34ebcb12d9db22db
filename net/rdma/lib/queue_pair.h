#pragma once
// A queue pair, RC or UD, with the verbs a libibverbs user knows
// (modify / post_send / post_recv) and the three halves of the RC protocol
// as rxe splits them:
//   requester.cpp  turns send WQEs into packets (segmentation, PSNs, window);
//   responder.cpp  executes incoming requests (PSN checks, RNR, NAKs, MSN);
//   completer.cpp  consumes ACKs, NAKs and READ responses, retransmits
//                  go-back-N on timeout and gives up per retry_cnt/rnr_retry.
// queue_pair.cpp holds the state machine and the queues; ud_transport.cpp
// the UD send and receive. Nothing here locks or reads a clock: the engine
// passes the time in and the caller serializes (one lock around the engine).

#include <kernel/lib/error_or.h>
#include <kernel/lib/own_ptr.h>
#include <net/rdma/lib/roce_packet.h>
#include <net/rdma/lib/verbs.h>
#include <net/rdma/lib/work_queue.h>

namespace tessera::rdma {

class RoceEngine;

struct SendWqe {
    SendWr wr;
    uint64_t length { 0 };
    bool started { false }; // PSNs assigned
    uint32_t first_psn { 0 };
    uint32_t last_psn { 0 };
    uint32_t packets { 0 };
};

struct RecvWqe {
    RecvWr wr;
    uint64_t length { 0 };
};

inline constexpr uint64_t no_deadline = ~0ull;
inline constexpr uint32_t gsi_qpn = 1;
inline constexpr uint32_t gsi_qkey = 0x80010000;
// rxe: RXE_MAX_UNACKED_PSNS and RXE_MAX_PKT_PER_ACK (docs/wire/roce-v2.md).
inline constexpr uint32_t max_unacked_psns = 128;
inline constexpr uint32_t max_packets_per_ack = 64;

class QueuePair {
public:
    static ErrorOr<OwnPtr<QueuePair>> try_create(RoceEngine& engine, const QpInitAttr& init, uint32_t qpn);
    ~QueuePair();

    uint32_t qp_num() const { return m_qpn; }
    QpType type() const { return m_type; }
    bool is_ud() const { return m_type != QpType::Rc; }
    QpState state() const { return m_state; }
    const QpAttr& attr() const { return m_attr; }
    ProtectionDomain& pd() const { return *m_pd; }
    uint32_t path_mtu() const { return m_mtu; }

    // ibv_modify_qp: the transition and the attributes it requires are
    // checked as rxe (ib_modify_qp_is_ok) does; INVAL otherwise.
    ErrorOr<void> modify(const QpAttr& attr, uint32_t mask);
    // ibv_post_send / ibv_post_recv. INVAL for a malformed WR or one whose
    // SGEs do not resolve; NOMEM for a full queue. In ERR the WR completes
    // at once with FLUSH_ERR.
    ErrorOr<void> post_send(const SendWr& wr);
    ErrorOr<void> post_recv(const RecvWr& wr);

    // Engine side: a packet already validated for this QP (address, state,
    // transport type), and the passage of time.
    void receive(const ReceivedPacket& packet, uint64_t now_ns);
    void poll(uint64_t now_ns);
    // 0 when there is something to send now, no_deadline when idle.
    uint64_t next_deadline_ns() const;

    // Observability for tests and the integrator.
    uint32_t expected_psn() const { return m_epsn; }
    uint32_t next_send_psn() const { return m_req_psn; }
    uint32_t msn() const { return m_msn; }
    size_t send_queue_depth() const { return m_sq.count(); }
    size_t recv_queue_depth() const { return m_rq.count(); }

private:
    QueuePair(RoceEngine& engine, const QpInitAttr& init, uint32_t qpn);

    // queue_pair.cpp
    ErrorOr<void> check_modify(const QpAttr& attr, uint32_t mask, QpState target) const;
    void enter_state(QpState target);
    void move_to_error();
    void flush_queues();
    void complete_send(SendWqe& wqe, WcStatus status);
    void complete_recv(const RecvWqe& wqe, WorkCompletion completion, bool solicited);
    uint64_t timeout_ns() const;
    PacketAddressing addressing() const;
    void transmit(const TransportHeaders& headers, Span<const uint8_t> payload);

    // requester.cpp
    void run_requester(uint64_t now_ns);
    bool can_send() const;
    void start_wqe(SendWqe& wqe);
    bool send_next_packet(SendWqe& wqe, uint64_t now_ns);
    void rewind(uint32_t psn);

    // completer.cpp
    void handle_response(const ReceivedPacket& packet, uint64_t now_ns);
    void handle_ack(const Aeth& aeth, uint32_t psn, uint64_t now_ns);
    void handle_read_response(const ReceivedPacket& packet, uint64_t now_ns);
    bool acknowledge_through(uint32_t psn);
    bool psn_outstanding(uint32_t psn) const;
    void on_progress(uint64_t now_ns);
    void retry(uint64_t now_ns);
    void fail_wqe(uint64_t index, WcStatus status);
    void handle_timers(uint64_t now_ns);

    // responder.cpp
    void handle_request(const ReceivedPacket& packet);
    void execute_send(const ReceivedPacket& packet);
    void execute_write(const ReceivedPacket& packet);
    void execute_read(const ReceivedPacket& packet, bool duplicate);
    bool check_sequence(Opcode opcode);
    void send_ack(AethKind kind, uint8_t value, uint32_t psn);
    void nak_and_fail(NakCode code, uint32_t psn);

    // ud_transport.cpp
    void send_ud(SendWqe& wqe);
    void receive_ud(const ReceivedPacket& packet);

    RoceEngine& m_engine;
    uint32_t m_qpn;
    QpType m_type;
    ProtectionDomain* m_pd;
    CompletionQueue* m_send_cq;
    CompletionQueue* m_recv_cq;
    bool m_sq_sig_all;
    QpState m_state { QpState::Reset };
    QpAttr m_attr;
    uint32_t m_mtu { 1024 };
    uint16_t m_udp_source_port { 0xC000 };

    WorkQueue<SendWqe> m_sq;
    WorkQueue<RecvWqe> m_rq;

    // Requester: the WQE being sent (m_sq.head() <= m_req_index <= tail),
    // the next PSN to send, and the PSN after the highest ever sent.
    uint64_t m_req_index { 0 };
    uint32_t m_req_psn { 0 };
    uint32_t m_sent_psn_end { 0 };
    uint32_t m_packets_since_ack_request { 0 };
    uint32_t m_reads_outstanding { 0 };

    // Completer: the oldest unacknowledged PSN, retry budgets, timers.
    uint32_t m_comp_psn { 0 };
    uint8_t m_retry_left { 0 };
    uint8_t m_rnr_retry_left { 0 };
    uint64_t m_retransmit_deadline { no_deadline };
    uint64_t m_rnr_deadline { no_deadline };
    bool m_read_retry_pending { false }; // a gap in READ responses already asked for a resend

    // Responder.
    enum class Receiving : uint8_t { Nothing, Send, Write };
    uint32_t m_epsn { 0 };
    uint32_t m_msn { 0 };
    bool m_nak_sent { false }; // one NAK per gap, then silence (rxe sent_psn_nak)
    Receiving m_receiving { Receiving::Nothing };
    uint64_t m_recv_offset { 0 };
    uint32_t m_write_rkey { 0 };
    uint64_t m_write_address { 0 };
    uint64_t m_write_remaining { 0 };
    uint32_t m_write_length { 0 };
    uint32_t m_qkey { 0 };
};

} // namespace tessera::rdma
