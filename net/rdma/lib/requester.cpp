// The requester: send WQEs into request packets, the way rxe_req.c cuts
// them (docs/wire/roce-v2.md "MTU and segmentation", "PSN, ACK and
// retransmission"): path-MTU FIRST/MIDDLE packets and a LAST/ONLY with the
// rest; the RETH on WRITE FIRST/ONLY; ImmDt on the last packet; AckReq on
// the last packet and after 64 packets without one; never more than 128
// PSNs past the oldest unacknowledged one; a READ request takes one PSN
// per response packet.

#include <net/rdma/lib/protection_domain.h>
#include <net/rdma/lib/psn.h>
#include <net/rdma/lib/queue_pair.h>
#include <net/rdma/lib/roce_engine.h>
#include <net/rdma/lib/sge_copy.h>

namespace tessera::rdma {

namespace {

uint32_t packets_for(uint64_t length, uint32_t mtu)
{
    if (length == 0)
        return 1;
    return static_cast<uint32_t>((length + mtu - 1) / mtu);
}

Opcode send_opcode(bool first, bool last, bool immediate)
{
    if (first && last)
        return immediate ? Opcode::RcSendOnlyImm : Opcode::RcSendOnly;
    if (first)
        return Opcode::RcSendFirst;
    if (last)
        return immediate ? Opcode::RcSendLastImm : Opcode::RcSendLast;
    return Opcode::RcSendMiddle;
}

Opcode write_opcode(bool first, bool last, bool immediate)
{
    if (first && last)
        return immediate ? Opcode::RcWriteOnlyImm : Opcode::RcWriteOnly;
    if (first)
        return Opcode::RcWriteFirst;
    if (last)
        return immediate ? Opcode::RcWriteLastImm : Opcode::RcWriteLast;
    return Opcode::RcWriteMiddle;
}

} // namespace

bool QueuePair::can_send() const
{
    if (m_state != QpState::Rts && m_state != QpState::Sqd)
        return false;
    if (m_req_index >= m_sq.tail() || m_rnr_deadline != no_deadline)
        return false;
    if (is_ud())
        return m_state == QpState::Rts;
    // Window: at most 128 PSNs past the oldest unacknowledged one.
    if (psn_diff(m_req_psn, m_comp_psn) >= static_cast<int32_t>(max_unacked_psns))
        return false;
    const SendWqe& wqe = m_sq.at(m_req_index);
    if (!wqe.started) {
        // SQD: finish what was started, start nothing new.
        if (m_state == QpState::Sqd)
            return false;
        uint32_t read_limit = m_attr.max_rd_atomic == 0 ? 1 : m_attr.max_rd_atomic;
        if (wqe.wr.opcode == WrOpcode::RdmaRead && m_reads_outstanding >= read_limit)
            return false;
    }
    return true;
}

void QueuePair::start_wqe(SendWqe& wqe)
{
    wqe.started = true;
    wqe.first_psn = m_req_psn;
    wqe.packets = packets_for(wqe.length, m_mtu);
    wqe.last_psn = psn_add(wqe.first_psn, wqe.packets - 1);
    if (wqe.wr.opcode == WrOpcode::RdmaRead)
        ++m_reads_outstanding;
}

void QueuePair::run_requester(uint64_t now_ns)
{
    while (can_send()) {
        SendWqe& wqe = m_sq.at(m_req_index);
        if (is_ud()) {
            send_ud(wqe);
            continue;
        }
        if (!wqe.started)
            start_wqe(wqe);
        if (!send_next_packet(wqe, now_ns))
            return;
    }
}

// Sends the packet at m_req_psn of `wqe`. False when the WQE failed locally
// (its SGEs no longer resolve) and the QP went to ERR.
bool QueuePair::send_next_packet(SendWqe& wqe, uint64_t now_ns)
{
    uint32_t index = static_cast<uint32_t>(psn_diff(m_req_psn, wqe.first_psn));
    VERIFY(index < wqe.packets);
    uint64_t offset = static_cast<uint64_t>(index) * m_mtu;
    TransportHeaders headers;
    Bth& bth = headers.bth;
    bth.dest_qpn = m_attr.dest_qp_num;
    bth.psn = m_req_psn;
    Span<const uint8_t> payload;

    if (wqe.wr.opcode == WrOpcode::RdmaRead) {
        // A resent READ asks for the rest only (rxe req_retry moves the
        // WQE's iova the same way).
        bth.opcode = Opcode::RcReadRequest;
        bth.ack_request = true;
        headers.reth.virtual_address = wqe.wr.remote_addr + offset;
        headers.reth.rkey = wqe.wr.rkey;
        headers.reth.dma_length = static_cast<uint32_t>(wqe.length - offset);
        transmit(headers, payload);
        m_req_psn = psn_add(wqe.last_psn, 1);
        m_packets_since_ack_request = 0;
        ++m_req_index;
    } else {
        bool first = index == 0;
        bool last = index + 1 == wqe.packets;
        uint64_t remaining = wqe.length - offset;
        size_t size = static_cast<size_t>(remaining < m_mtu ? remaining : m_mtu);
        bool write = wqe.wr.opcode == WrOpcode::RdmaWrite || wqe.wr.opcode == WrOpcode::RdmaWriteWithImm;
        bool immediate = wqe.wr.opcode == WrOpcode::SendWithImm || wqe.wr.opcode == WrOpcode::RdmaWriteWithImm;
        bth.opcode = write ? write_opcode(first, last, immediate) : send_opcode(first, last, immediate);
        bth.solicited = last && (wqe.wr.send_flags & send_solicited);
        if (write && first) {
            headers.reth.virtual_address = wqe.wr.remote_addr;
            headers.reth.rkey = wqe.wr.rkey;
            headers.reth.dma_length = static_cast<uint32_t>(wqe.length);
        }
        if (last && immediate)
            headers.immediate = wqe.wr.imm_data;
        ++m_packets_since_ack_request;
        bth.ack_request = last || m_packets_since_ack_request >= max_packets_per_ack;
        if (bth.ack_request)
            m_packets_since_ack_request = 0;
        Span<uint8_t> buffer = m_engine.payload_buffer().first(size);
        Span<const Sge> sges(wqe.wr.sg_list, wqe.wr.num_sge);
        if (gather_from_sges(m_engine.memory_regions(), *m_pd, sges, offset, buffer).is_error()) {
            fail_wqe(m_req_index, WcStatus::LocProtErr);
            return false;
        }
        payload = buffer;
        transmit(headers, payload);
        m_req_psn = psn_add(m_req_psn, 1);
        if (last)
            ++m_req_index;
    }
    if (psn_after(m_req_psn, m_sent_psn_end))
        m_sent_psn_end = m_req_psn;
    if (m_retransmit_deadline == no_deadline && timeout_ns() != no_deadline)
        m_retransmit_deadline = now_ns + timeout_ns();
    return true;
}

// Go-back-N: the requester resumes at `psn`, inside whichever WQE holds it.
void QueuePair::rewind(uint32_t psn)
{
    m_req_psn = psn;
    m_packets_since_ack_request = 0;
    for (uint64_t index = m_sq.head(); index < m_sq.tail(); ++index) {
        SendWqe& wqe = m_sq.at(index);
        if (!wqe.started || psn_in_window(psn, wqe.first_psn, wqe.packets)) {
            m_req_index = index;
            return;
        }
    }
    m_req_index = m_sq.tail();
}

} // namespace tessera::rdma
