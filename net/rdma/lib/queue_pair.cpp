#include <net/rdma/lib/completion_queue.h>
#include <net/rdma/lib/protection_domain.h>
#include <net/rdma/lib/psn.h>
#include <net/rdma/lib/queue_pair.h>
#include <net/rdma/lib/roce_engine.h>
#include <net/rdma/lib/sge_copy.h>

namespace tessera::rdma {

namespace {

bool transition_allowed(QpState from, QpState to)
{
    if (to == QpState::Reset || to == QpState::Err)
        return true;
    switch (from) {
    case QpState::Reset:
        return to == QpState::Init;
    case QpState::Init:
        return to == QpState::Init || to == QpState::Rtr;
    case QpState::Rtr:
        return to == QpState::Rts;
    case QpState::Rts:
    case QpState::Sqd:
        return to == QpState::Rts || to == QpState::Sqd;
    case QpState::Err:
        return false;
    }
    return false;
}

// The attributes each transition requires (IBA table 91, as
// ib_modify_qp_is_ok encodes it for RC and UD).
uint32_t required_mask(QpType type, QpState from, QpState to)
{
    if (from == QpState::Reset && to == QpState::Init) {
        if (type == QpType::Rc)
            return qp_attr_pkey_index | qp_attr_port | qp_attr_access_flags;
        if (type == QpType::Ud)
            return qp_attr_pkey_index | qp_attr_port | qp_attr_qkey;
        return 0; // GSI: its Q_Key is fixed
    }
    if (from == QpState::Init && to == QpState::Rtr && type == QpType::Rc)
        return qp_attr_av | qp_attr_path_mtu | qp_attr_dest_qpn | qp_attr_rq_psn | qp_attr_max_dest_rd_atomic
            | qp_attr_min_rnr_timer;
    if (from == QpState::Rtr && to == QpState::Rts) {
        if (type == QpType::Rc)
            return qp_attr_sq_psn | qp_attr_timeout | qp_attr_retry_cnt | qp_attr_rnr_retry | qp_attr_max_qp_rd_atomic;
        return qp_attr_sq_psn;
    }
    return 0;
}

} // namespace

const char* qp_state_name(QpState state)
{
    switch (state) {
    case QpState::Reset:
        return "RESET";
    case QpState::Init:
        return "INIT";
    case QpState::Rtr:
        return "RTR";
    case QpState::Rts:
        return "RTS";
    case QpState::Sqd:
        return "SQD";
    case QpState::Err:
        return "ERR";
    }
    return "?";
}

QueuePair::QueuePair(RoceEngine& engine, const QpInitAttr& init, uint32_t qpn)
    : m_engine(engine)
    , m_qpn(qpn)
    , m_type(init.qp_type)
    , m_pd(init.pd)
    , m_send_cq(init.send_cq)
    , m_recv_cq(init.recv_cq)
    , m_sq_sig_all(init.sq_sig_all)
{
    if (m_type == QpType::Gsi)
        m_qkey = gsi_qkey;
    m_mtu = is_ud() ? engine.active_mtu() : 1024;
}

// The analyzer loses track of an OwnPtr moved into ErrorOr (as in
// kernel/lib/containers_check.cpp).
// NOLINTBEGIN(clang-analyzer-cplusplus.NewDeleteLeaks)
ErrorOr<OwnPtr<QueuePair>> QueuePair::try_create(RoceEngine& engine, const QpInitAttr& init, uint32_t qpn)
{
    if (init.pd == nullptr || init.send_cq == nullptr || init.recv_cq == nullptr)
        return Error(Errno::INVAL, "QP: PD and CQs are required");
    auto qp = TRY(adopt_own_if_nonnull(new (kstd::nothrow) QueuePair(engine, init, qpn)));
    TRY(qp->m_sq.try_initialize(init.max_send_wr));
    TRY(qp->m_rq.try_initialize(init.max_recv_wr));
    init.pd->add_user();
    init.send_cq->add_user();
    init.recv_cq->add_user();
    return qp;
}
// NOLINTEND(clang-analyzer-cplusplus.NewDeleteLeaks)

QueuePair::~QueuePair()
{
    m_pd->remove_user();
    m_send_cq->remove_user();
    m_recv_cq->remove_user();
}

ErrorOr<void> QueuePair::check_modify(const QpAttr& attr, uint32_t mask, QpState target) const
{
    if (!transition_allowed(m_state, target))
        return Error(Errno::INVAL, "QP: state transition not allowed");
    uint32_t required = required_mask(m_type, m_state, target);
    if ((mask & required) != required)
        return Error(Errno::INVAL, "QP: transition lacks a required attribute");
    if ((mask & qp_attr_access_flags) && (attr.qp_access_flags & ~access_known_mask))
        return Error(Errno::INVAL, "QP: unknown access flag");
    if ((mask & qp_attr_port) && attr.port_num != 1)
        return Error(Errno::INVAL, "QP: port must be 1");
    if ((mask & qp_attr_pkey_index) && attr.pkey_index != 0)
        return Error(Errno::INVAL, "QP: only P_Key index 0 exists");
    if (mask & qp_attr_path_mtu) {
        auto mtu = static_cast<uint8_t>(attr.path_mtu);
        if (mtu < 1 || mtu > 5)
            return Error(Errno::INVAL, "QP: path MTU must be 256..4096");
    }
    if ((mask & qp_attr_timeout) && attr.timeout > 31)
        return Error(Errno::INVAL, "QP: timeout above 31");
    if ((mask & qp_attr_retry_cnt) && attr.retry_cnt > 7)
        return Error(Errno::INVAL, "QP: retry_cnt above 7");
    if ((mask & qp_attr_rnr_retry) && attr.rnr_retry > 7)
        return Error(Errno::INVAL, "QP: rnr_retry above 7");
    if ((mask & qp_attr_min_rnr_timer) && attr.min_rnr_timer > 31)
        return Error(Errno::INVAL, "QP: min_rnr_timer above 31");
    if ((mask & qp_attr_rq_psn) && attr.rq_psn > psn_mask)
        return Error(Errno::INVAL, "QP: rq_psn wider than 24 bits");
    if ((mask & qp_attr_sq_psn) && attr.sq_psn > psn_mask)
        return Error(Errno::INVAL, "QP: sq_psn wider than 24 bits");
    if ((mask & qp_attr_dest_qpn) && (attr.dest_qp_num == 0 || attr.dest_qp_num > psn_mask))
        return Error(Errno::INVAL, "QP: dest QPN out of range");
    if ((mask & qp_attr_max_qp_rd_atomic) && attr.max_rd_atomic > 16)
        return Error(Errno::INVAL, "QP: max_rd_atomic above 16");
    if ((mask & qp_attr_max_dest_rd_atomic) && attr.max_dest_rd_atomic > 16)
        return Error(Errno::INVAL, "QP: max_dest_rd_atomic above 16");
    if (mask & qp_attr_av) {
        const Ipv4Address zero {};
        if (attr.ah_attr.destination == zero)
            return Error(Errno::INVAL, "QP: no destination address");
    }
    return {};
}

ErrorOr<void> QueuePair::modify(const QpAttr& attr, uint32_t mask)
{
    QpState target = (mask & qp_attr_state) ? attr.qp_state : m_state;
    TRY(check_modify(attr, mask, target));
    if (mask & qp_attr_access_flags)
        m_attr.qp_access_flags = attr.qp_access_flags;
    if ((mask & qp_attr_qkey) && m_type == QpType::Ud)
        m_qkey = attr.qkey;
    if (mask & qp_attr_av)
        m_attr.ah_attr = attr.ah_attr;
    if (mask & qp_attr_path_mtu) {
        m_attr.path_mtu = attr.path_mtu;
        if (!is_ud())
            m_mtu = path_mtu_bytes(attr.path_mtu);
    }
    if (mask & qp_attr_timeout)
        m_attr.timeout = attr.timeout;
    if (mask & qp_attr_retry_cnt)
        m_attr.retry_cnt = m_retry_left = attr.retry_cnt;
    if (mask & qp_attr_rnr_retry)
        m_attr.rnr_retry = m_rnr_retry_left = attr.rnr_retry;
    if (mask & qp_attr_rq_psn)
        m_attr.rq_psn = attr.rq_psn;
    if (mask & qp_attr_sq_psn)
        m_attr.sq_psn = attr.sq_psn;
    if (mask & qp_attr_max_qp_rd_atomic)
        m_attr.max_rd_atomic = attr.max_rd_atomic;
    if (mask & qp_attr_max_dest_rd_atomic)
        m_attr.max_dest_rd_atomic = attr.max_dest_rd_atomic;
    if (mask & qp_attr_min_rnr_timer)
        m_attr.min_rnr_timer = attr.min_rnr_timer;
    if (mask & qp_attr_dest_qpn)
        m_attr.dest_qp_num = attr.dest_qp_num;
    m_attr.qkey = m_qkey;
    if (target != m_state || target == QpState::Rtr || target == QpState::Rts)
        enter_state(target);
    return {};
}

void QueuePair::enter_state(QpState target)
{
    QpState from = m_state;
    m_state = target;
    switch (target) {
    case QpState::Reset:
        // No completions: RESET forgets everything (IBA 10.3.1).
        m_sq.clear();
        m_rq.clear();
        m_req_index = m_sq.head();
        m_reads_outstanding = 0;
        m_retransmit_deadline = m_rnr_deadline = no_deadline;
        m_receiving = Receiving::Nothing;
        break;
    case QpState::Rtr:
        if (from == QpState::Init) {
            m_epsn = m_attr.rq_psn;
            m_msn = 0;
            m_nak_sent = false;
            m_receiving = Receiving::Nothing;
            m_udp_source_port = roce_udp_source_port(m_qpn, m_attr.dest_qp_num);
        }
        break;
    case QpState::Rts:
        if (from == QpState::Rtr) {
            m_req_psn = m_comp_psn = m_sent_psn_end = m_attr.sq_psn;
            m_req_index = m_sq.head();
            m_retry_left = m_attr.retry_cnt;
            m_rnr_retry_left = m_attr.rnr_retry;
        }
        break;
    case QpState::Err:
        flush_queues();
        break;
    default:
        break;
    }
}

void QueuePair::move_to_error()
{
    if (m_state != QpState::Err)
        enter_state(QpState::Err);
}

// In ERR every outstanding WR completes with FLUSH_ERR, signaled or not
// (IBA 10.8.3.1; rxe flush_send_queue / flush_recv_queue).
void QueuePair::flush_queues()
{
    while (!m_sq.is_empty()) {
        complete_send(m_sq.front(), WcStatus::WrFlushErr);
        m_sq.pop();
    }
    m_req_index = m_sq.head();
    m_reads_outstanding = 0;
    while (!m_rq.is_empty()) {
        WorkCompletion completion;
        completion.status = WcStatus::WrFlushErr;
        completion.opcode = WcOpcode::Recv;
        complete_recv(m_rq.front(), completion, false);
        m_rq.pop();
    }
    m_retransmit_deadline = m_rnr_deadline = no_deadline;
}

void QueuePair::complete_send(SendWqe& wqe, WcStatus status)
{
    bool signaled = m_sq_sig_all || (wqe.wr.send_flags & send_signaled);
    if (status == WcStatus::Success && !signaled)
        return;
    WorkCompletion completion;
    completion.wr_id = wqe.wr.wr_id;
    completion.status = status;
    completion.qp_num = m_qpn;
    switch (wqe.wr.opcode) {
    case WrOpcode::Send:
    case WrOpcode::SendWithImm:
        completion.opcode = WcOpcode::Send;
        break;
    case WrOpcode::RdmaWrite:
    case WrOpcode::RdmaWriteWithImm:
        completion.opcode = WcOpcode::RdmaWrite;
        break;
    case WrOpcode::RdmaRead:
        completion.opcode = WcOpcode::RdmaRead;
        break;
    }
    if (status == WcStatus::Success)
        completion.byte_len = static_cast<uint32_t>(wqe.length);
    m_send_cq->add(completion);
}

void QueuePair::complete_recv(const RecvWqe& wqe, WorkCompletion completion, bool solicited)
{
    completion.wr_id = wqe.wr.wr_id;
    completion.qp_num = m_qpn;
    m_recv_cq->add(completion, solicited);
}

ErrorOr<void> QueuePair::post_send(const SendWr& wr)
{
    if (m_state == QpState::Reset || m_state == QpState::Init || m_state == QpState::Rtr)
        return Error(Errno::INVAL, "post_send: QP not ready to send");
    if (m_sq.is_full())
        return Error(Errno::NOMEM, "post_send: send queue full");
    if (wr.num_sge > max_sge)
        return Error(Errno::INVAL, "post_send: too many SGEs");
    Span<const Sge> sges(wr.sg_list, wr.num_sge);
    SendWqe wqe;
    wqe.wr = wr;
    wqe.length = TRY(sge_total_length(sges));
    if (is_ud()) {
        if (wr.opcode != WrOpcode::Send && wr.opcode != WrOpcode::SendWithImm)
            return Error(Errno::INVAL, "post_send: UD carries only SEND");
        if (wqe.length > m_mtu)
            return Error(Errno::INVAL, "post_send: UD message larger than the MTU");
        if (wr.remote_qpn == 0 || wr.remote_qpn > psn_mask)
            return Error(Errno::INVAL, "post_send: bad remote QPN");
    } else if (static_cast<uint8_t>(wr.opcode) > static_cast<uint8_t>(WrOpcode::RdmaRead)) {
        return Error(Errno::INVAL, "post_send: unsupported opcode");
    }
    uint32_t local_access = wr.opcode == WrOpcode::RdmaRead ? static_cast<uint32_t>(access_local_write) : 0u;
    TRY(check_sges(m_engine.memory_regions(), *m_pd, sges, local_access));
    m_sq.push(wqe);
    if (m_state == QpState::Err)
        flush_queues();
    return {};
}

ErrorOr<void> QueuePair::post_recv(const RecvWr& wr)
{
    if (m_state == QpState::Reset)
        return Error(Errno::INVAL, "post_recv: QP in RESET");
    if (m_rq.is_full())
        return Error(Errno::NOMEM, "post_recv: receive queue full");
    if (wr.num_sge > max_sge)
        return Error(Errno::INVAL, "post_recv: too many SGEs");
    Span<const Sge> sges(wr.sg_list, wr.num_sge);
    RecvWqe wqe;
    wqe.wr = wr;
    wqe.length = TRY(sge_total_length(sges));
    TRY(check_sges(m_engine.memory_regions(), *m_pd, sges, access_local_write));
    m_rq.push(wqe);
    if (m_state == QpState::Err)
        flush_queues();
    return {};
}

uint64_t QueuePair::timeout_ns() const
{
    // 4.096 us * 2^timeout (rxe_qp.c); 0 means the timer never fires.
    if (m_attr.timeout == 0)
        return no_deadline;
    return 4096ull << m_attr.timeout;
}

PacketAddressing QueuePair::addressing() const
{
    PacketAddressing addressing;
    addressing.destination = m_attr.ah_attr.destination;
    addressing.hop_limit = m_attr.ah_attr.hop_limit;
    addressing.traffic_class = m_attr.ah_attr.traffic_class;
    addressing.udp_source_port = m_udp_source_port;
    return addressing;
}

void QueuePair::transmit(const TransportHeaders& headers, Span<const uint8_t> payload)
{
    m_engine.transmit(addressing(), headers, payload);
}

void QueuePair::receive(const ReceivedPacket& packet, uint64_t now_ns)
{
    if (is_ud()) {
        receive_ud(packet);
        return;
    }
    uint8_t opcode = static_cast<uint8_t>(packet.transport.headers.bth.opcode);
    bool response = opcode >= static_cast<uint8_t>(Opcode::RcReadResponseFirst)
        && opcode <= static_cast<uint8_t>(Opcode::RcAcknowledge);
    if (response)
        handle_response(packet, now_ns);
    else
        handle_request(packet);
    run_requester(now_ns);
}

void QueuePair::poll(uint64_t now_ns)
{
    handle_timers(now_ns);
    run_requester(now_ns);
}

uint64_t QueuePair::next_deadline_ns() const
{
    if (can_send())
        return 0;
    uint64_t next = m_retransmit_deadline;
    return m_rnr_deadline < next ? m_rnr_deadline : next;
}

} // namespace tessera::rdma
