// The completer: ACKs, NAKs and READ responses against the send queue, as
// rxe_comp.c does (docs/wire/roce-v2.md "PSN, ACK and retransmission"). An ACK
// for PSN p completes every SEND/WRITE whose last PSN is <= p; a READ
// completes only with its last response; an ACK that passes an unfinished
// READ means its responses were lost, and the READ is asked again. Errors
// complete the WQE and put the QP in ERR; retries are go-back-N from the
// oldest unacknowledged PSN, counted against retry_cnt / rnr_retry (7 =
// forever, as rxe) and refilled by any progress.

#include <net/rdma/lib/protection_domain.h>
#include <net/rdma/lib/psn.h>
#include <net/rdma/lib/queue_pair.h>
#include <net/rdma/lib/rnr_timer.h>
#include <net/rdma/lib/roce_engine.h>
#include <net/rdma/lib/sge_copy.h>

namespace tessera::rdma {

namespace {

constexpr uint8_t retry_forever = 7;

WcStatus nak_status(NakCode code)
{
    switch (code) {
    case NakCode::InvalidRequest:
        return WcStatus::RemInvReqErr;
    case NakCode::RemoteAccessError:
        return WcStatus::RemAccessErr;
    default:
        return WcStatus::RemOpErr;
    }
}

} // namespace

// Whether `psn` was sent and is not yet acknowledged.
bool QueuePair::psn_outstanding(uint32_t psn) const
{
    return psn_diff(psn, m_comp_psn) >= 0 && psn_before(psn, m_sent_psn_end);
}

// Completes what an acknowledgement of everything through `psn` covers.
// True if it was progress.
bool QueuePair::acknowledge_through(uint32_t psn)
{
    bool progress = false;
    while (!m_sq.is_empty() && m_sq.front().started) {
        SendWqe& wqe = m_sq.front();
        // Only its own responses complete a READ (the caller handles an ACK
        // that passes over one).
        if (wqe.wr.opcode == WrOpcode::RdmaRead)
            break;
        if (psn_diff(psn, wqe.last_psn) >= 0) {
            m_comp_psn = psn_add(wqe.last_psn, 1);
            complete_send(wqe, WcStatus::Success);
            m_sq.pop();
            progress = true;
            continue;
        }
        if (psn_diff(psn, m_comp_psn) >= 0) {
            m_comp_psn = psn_add(psn, 1);
            progress = true;
        }
        break;
    }
    // The requester may have been rewound behind what is now acknowledged.
    if (m_req_index < m_sq.head() || psn_before(m_req_psn, m_comp_psn))
        rewind(m_comp_psn);
    return progress;
}

void QueuePair::on_progress(uint64_t now_ns)
{
    m_retry_left = m_attr.retry_cnt;
    m_rnr_retry_left = m_attr.rnr_retry;
    bool outstanding = psn_before(m_comp_psn, m_sent_psn_end);
    m_retransmit_deadline = outstanding && timeout_ns() != no_deadline ? now_ns + timeout_ns() : no_deadline;
}

// Go-back-N from the oldest unacknowledged PSN, if the budget allows.
void QueuePair::retry(uint64_t now_ns)
{
    if (m_attr.retry_cnt != retry_forever) {
        if (m_retry_left == 0) {
            ++m_engine.mutable_counters().retry_exceeded;
            fail_wqe(m_sq.head(), WcStatus::RetryExcErr);
            return;
        }
        --m_retry_left;
    }
    ++m_engine.mutable_counters().retries;
    rewind(m_comp_psn);
    m_retransmit_deadline = timeout_ns() != no_deadline ? now_ns + timeout_ns() : no_deadline;
}

// The WQE at `index` completes with `status`, the ones before it (still
// unacknowledged) and after it flush, and the QP goes to ERR.
void QueuePair::fail_wqe(uint64_t index, WcStatus status)
{
    while (!m_sq.is_empty() && m_sq.head() < index) {
        complete_send(m_sq.front(), WcStatus::WrFlushErr);
        m_sq.pop();
    }
    if (!m_sq.is_empty()) {
        complete_send(m_sq.front(), status);
        m_sq.pop();
    }
    move_to_error();
}

void QueuePair::handle_timers(uint64_t now_ns)
{
    if (m_state != QpState::Rts && m_state != QpState::Sqd)
        return;
    if (m_rnr_deadline != no_deadline && now_ns >= m_rnr_deadline) {
        m_rnr_deadline = no_deadline;
        rewind(m_comp_psn);
    }
    if (m_retransmit_deadline != no_deadline && now_ns >= m_retransmit_deadline) {
        m_retransmit_deadline = no_deadline;
        if (psn_before(m_comp_psn, m_sent_psn_end) && m_rnr_deadline == no_deadline) {
            ++m_engine.mutable_counters().retransmit_timeouts;
            m_read_retry_pending = false;
            retry(now_ns);
        }
    }
}

void QueuePair::handle_response(const ReceivedPacket& packet, uint64_t now_ns)
{
    if (m_state != QpState::Rts && m_state != QpState::Sqd) {
        ++m_engine.mutable_counters().dropped[static_cast<size_t>(DropReason::BadResponse)];
        return;
    }
    const TransportHeaders& headers = packet.transport.headers;
    if (headers.bth.opcode == Opcode::RcAcknowledge)
        handle_ack(headers.aeth, headers.bth.psn, now_ns);
    else
        handle_read_response(packet, now_ns);
}

void QueuePair::handle_ack(const Aeth& aeth, uint32_t psn, uint64_t now_ns)
{
    RoceCounters& counters = m_engine.mutable_counters();
    if (aeth.kind == AethKind::Ack) {
        // An ACK may repeat the last acknowledged PSN (comp_psn - 1).
        if (!psn_outstanding(psn) && psn != psn_add(m_comp_psn, psn_mask)) {
            ++counters.dropped[static_cast<size_t>(DropReason::StaleResponse)];
            return;
        }
        if (acknowledge_through(psn))
            on_progress(now_ns);
        // Passed over an unfinished READ: its responses are gone.
        if (!m_sq.is_empty() && m_sq.front().started && m_sq.front().wr.opcode == WrOpcode::RdmaRead
            && psn_diff(psn, m_sq.front().first_psn) >= 0 && !m_read_retry_pending) {
            m_read_retry_pending = true;
            retry(now_ns);
        }
        return;
    }
    // A NAK names the PSN it is about; everything before it is acknowledged.
    if (!psn_outstanding(psn)) {
        ++counters.dropped[static_cast<size_t>(DropReason::StaleResponse)];
        return;
    }
    if (acknowledge_through(psn_add(psn, psn_mask)))
        on_progress(now_ns);
    if (aeth.kind == AethKind::RnrNak) {
        ++counters.rnr_nak_received;
        if (m_attr.rnr_retry != retry_forever) {
            if (m_rnr_retry_left == 0) {
                ++counters.rnr_retry_exceeded;
                fail_wqe(m_sq.head(), WcStatus::RnrRetryExcErr);
                return;
            }
            --m_rnr_retry_left;
        }
        rewind(m_comp_psn);
        m_rnr_deadline = now_ns + rnr_timer_ns(aeth.value);
        m_retransmit_deadline = no_deadline;
        return;
    }
    if (aeth.nak_code() == NakCode::PsnSequenceError) {
        ++counters.nak_sequence_received;
        // While waiting out an RNR the requester resends from that PSN anyway.
        if (m_rnr_deadline == no_deadline)
            retry(now_ns);
        return;
    }
    fail_wqe(m_sq.head(), nak_status(aeth.nak_code()));
}

void QueuePair::handle_read_response(const ReceivedPacket& packet, uint64_t now_ns)
{
    RoceCounters& counters = m_engine.mutable_counters();
    const TransportHeaders& headers = packet.transport.headers;
    uint32_t psn = headers.bth.psn;
    if (!psn_outstanding(psn)) {
        ++counters.dropped[static_cast<size_t>(DropReason::StaleResponse)];
        return;
    }
    // A READ response acknowledges the requests before it.
    if (acknowledge_through(psn_add(psn, psn_mask)))
        on_progress(now_ns);
    if (m_sq.is_empty() || !m_sq.front().started || m_sq.front().wr.opcode != WrOpcode::RdmaRead) {
        ++counters.dropped[static_cast<size_t>(DropReason::BadResponse)];
        return;
    }
    SendWqe& wqe = m_sq.front();
    if (psn != m_comp_psn) {
        // A gap: responses were lost. Ask once for the rest; more out-of-order
        // responses of the same gap wait for that answer or the timer.
        ++counters.dropped[static_cast<size_t>(DropReason::StaleResponse)];
        if (!m_read_retry_pending) {
            m_read_retry_pending = true;
            retry(now_ns);
        }
        return;
    }
    uint32_t index = static_cast<uint32_t>(psn_diff(psn, wqe.first_psn));
    uint64_t offset = static_cast<uint64_t>(index) * m_mtu;
    uint64_t remaining = wqe.length - offset;
    size_t expected = static_cast<size_t>(remaining < m_mtu ? remaining : m_mtu);
    bool last = index + 1 == wqe.packets;
    Opcode opcode = headers.bth.opcode;
    bool says_last = opcode == Opcode::RcReadResponseLast || opcode == Opcode::RcReadResponseOnly;
    if (packet.transport.payload.size() != expected || says_last != last) {
        ++counters.dropped[static_cast<size_t>(DropReason::BadResponse)];
        return;
    }
    if (opcode != Opcode::RcReadResponseMiddle && headers.aeth.kind != AethKind::Ack) {
        fail_wqe(m_sq.head(), nak_status(headers.aeth.nak_code()));
        return;
    }
    Span<const Sge> sges(wqe.wr.sg_list, wqe.wr.num_sge);
    if (scatter_to_sges(m_engine.memory_regions(), *m_pd, sges, offset, packet.transport.payload).is_error()) {
        fail_wqe(m_sq.head(), WcStatus::LocProtErr);
        return;
    }
    m_read_retry_pending = false;
    m_comp_psn = psn_add(psn, 1);
    if (last) {
        complete_send(wqe, WcStatus::Success);
        m_sq.pop();
        --m_reads_outstanding;
    }
    if (m_req_index < m_sq.head() || psn_before(m_req_psn, m_comp_psn))
        rewind(m_comp_psn);
    on_progress(now_ns);
}

} // namespace tessera::rdma
