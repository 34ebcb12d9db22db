// The responder: incoming RC requests, checked the way rxe_resp.c checks
// them (docs/wire/roce-v2.md "PSN, ACK and retransmission", "MTU and
// segmentation"). The expected PSN is processed; a later one gets one NAK
// "PSN sequence error" carrying the expected PSN, then silence until the
// gap closes; an earlier one is a duplicate: SEND/WRITE are re-ACKed and not
// delivered again, a READ is executed again. Every check that can fail runs
// before anything is written (validate, then perform). ACKs go out only for
// packets with AckReq; they carry the packet's PSN and the MSN.

#include <kernel/lib/string.h>
#include <net/rdma/lib/completion_queue.h>
#include <net/rdma/lib/protection_domain.h>
#include <net/rdma/lib/psn.h>
#include <net/rdma/lib/queue_pair.h>
#include <net/rdma/lib/roce_engine.h>
#include <net/rdma/lib/sge_copy.h>

namespace tessera::rdma {

namespace {

bool is_send(Opcode opcode) { return static_cast<uint8_t>(opcode) <= static_cast<uint8_t>(Opcode::RcSendOnlyImm); }
bool is_write(Opcode opcode) { return opcode >= Opcode::RcWriteFirst && opcode <= Opcode::RcWriteOnlyImm; }
bool starts_message(Opcode opcode)
{
    switch (opcode) {
    case Opcode::RcSendFirst:
    case Opcode::RcSendOnly:
    case Opcode::RcSendOnlyImm:
    case Opcode::RcWriteFirst:
    case Opcode::RcWriteOnly:
    case Opcode::RcWriteOnlyImm:
    case Opcode::RcReadRequest:
        return true;
    default:
        return false;
    }
}
bool ends_message(Opcode opcode)
{
    switch (opcode) {
    case Opcode::RcSendLast:
    case Opcode::RcSendLastImm:
    case Opcode::RcSendOnly:
    case Opcode::RcSendOnlyImm:
    case Opcode::RcWriteLast:
    case Opcode::RcWriteLastImm:
    case Opcode::RcWriteOnly:
    case Opcode::RcWriteOnlyImm:
    case Opcode::RcReadRequest:
        return true;
    default:
        return false;
    }
}
bool has_immediate(Opcode opcode)
{
    return opcode == Opcode::RcSendLastImm || opcode == Opcode::RcSendOnlyImm || opcode == Opcode::RcWriteLastImm
        || opcode == Opcode::RcWriteOnlyImm;
}

uint32_t response_packets(uint64_t length, uint32_t mtu)
{
    return length == 0 ? 1 : static_cast<uint32_t>((length + mtu - 1) / mtu);
}

} // namespace

void QueuePair::send_ack(AethKind kind, uint8_t value, uint32_t psn)
{
    TransportHeaders headers;
    headers.bth.opcode = Opcode::RcAcknowledge;
    headers.bth.dest_qpn = m_attr.dest_qp_num;
    headers.bth.psn = psn;
    headers.aeth.kind = kind;
    headers.aeth.value = value;
    headers.aeth.msn = m_msn & psn_mask;
    transmit(headers, {});
}

void QueuePair::nak_and_fail(NakCode code, uint32_t psn)
{
    RoceCounters& counters = m_engine.mutable_counters();
    if (code == NakCode::InvalidRequest)
        ++counters.nak_invalid_request_sent;
    else if (code == NakCode::RemoteAccessError)
        ++counters.nak_access_sent;
    else
        ++counters.nak_operational_sent;
    send_ack(AethKind::Nak, static_cast<uint8_t>(code), psn);
    move_to_error();
}

// Opcode sequence (rxe check_op_seq): FIRST/ONLY only between messages,
// MIDDLE/LAST only inside one of the same kind.
bool QueuePair::check_sequence(Opcode opcode)
{
    if (starts_message(opcode))
        return m_receiving == Receiving::Nothing;
    if (is_send(opcode))
        return m_receiving == Receiving::Send;
    if (is_write(opcode))
        return m_receiving == Receiving::Write;
    return false;
}

void QueuePair::handle_request(const ReceivedPacket& packet)
{
    RoceCounters& counters = m_engine.mutable_counters();
    const Bth& bth = packet.transport.headers.bth;
    int32_t distance = psn_diff(bth.psn, m_epsn);
    if (distance > 0) {
        ++counters.out_of_sequence_request;
        if (!m_nak_sent) {
            m_nak_sent = true;
            ++counters.nak_sequence_sent;
            send_ack(AethKind::Nak, static_cast<uint8_t>(NakCode::PsnSequenceError), m_epsn);
        }
        return;
    }
    if (distance < 0) {
        ++counters.duplicate_request;
        if (bth.opcode == Opcode::RcReadRequest)
            execute_read(packet, true);
        else
            send_ack(AethKind::Ack, 0x1F, psn_add(m_epsn, psn_mask));
        return;
    }
    m_nak_sent = false;
    if (!check_sequence(bth.opcode) || packet.transport.payload.size() > m_mtu) {
        nak_and_fail(NakCode::InvalidRequest, bth.psn);
        return;
    }
    if (is_send(bth.opcode)) {
        execute_send(packet);
    } else if (is_write(bth.opcode)) {
        if (!(m_attr.qp_access_flags & access_remote_write)) {
            nak_and_fail(NakCode::InvalidRequest, bth.psn);
            return;
        }
        execute_write(packet);
    } else {
        if (!(m_attr.qp_access_flags & access_remote_read)) {
            nak_and_fail(NakCode::InvalidRequest, bth.psn);
            return;
        }
        execute_read(packet, false);
    }
}

void QueuePair::execute_send(const ReceivedPacket& packet)
{
    const TransportHeaders& headers = packet.transport.headers;
    Opcode opcode = headers.bth.opcode;
    Span<const uint8_t> payload = packet.transport.payload;
    if (starts_message(opcode)) {
        if (m_rq.is_empty()) {
            // Receiver not ready: the requester waits min_rnr_timer and resends.
            ++m_engine.mutable_counters().rnr_nak_sent;
            m_nak_sent = true;
            send_ack(AethKind::RnrNak, m_attr.min_rnr_timer, headers.bth.psn);
            return;
        }
        m_recv_offset = 0;
    }
    RecvWqe& wqe = m_rq.front();
    WorkCompletion completion;
    completion.opcode = WcOpcode::Recv;
    completion.src_qp = m_attr.dest_qp_num;
    if (payload.size() > wqe.length - m_recv_offset) {
        completion.status = WcStatus::LocLenErr;
        complete_recv(wqe, completion, false);
        m_rq.pop();
        nak_and_fail(NakCode::InvalidRequest, headers.bth.psn);
        return;
    }
    Span<const Sge> sges(wqe.wr.sg_list, wqe.wr.num_sge);
    if (scatter_to_sges(m_engine.memory_regions(), *m_pd, sges, m_recv_offset, payload).is_error()) {
        completion.status = WcStatus::LocProtErr;
        complete_recv(wqe, completion, false);
        m_rq.pop();
        nak_and_fail(NakCode::RemoteOperationalError, headers.bth.psn);
        return;
    }
    m_recv_offset += payload.size();
    bool last = ends_message(opcode);
    m_receiving = last ? Receiving::Nothing : Receiving::Send;
    if (last) {
        completion.byte_len = static_cast<uint32_t>(m_recv_offset);
        if (has_immediate(opcode)) {
            completion.imm_data = headers.immediate;
            completion.wc_flags |= wc_with_imm;
        }
        complete_recv(wqe, completion, headers.bth.solicited);
        m_rq.pop();
        m_msn = psn_add(m_msn, 1);
    }
    m_epsn = psn_add(m_epsn, 1);
    if (headers.bth.ack_request)
        send_ack(AethKind::Ack, 0x1F, headers.bth.psn);
}

void QueuePair::execute_write(const ReceivedPacket& packet)
{
    const TransportHeaders& headers = packet.transport.headers;
    Opcode opcode = headers.bth.opcode;
    uint32_t psn = headers.bth.psn;
    Span<const uint8_t> payload = packet.transport.payload;
    bool first = starts_message(opcode);
    bool last = ends_message(opcode);
    uint64_t remaining = first ? headers.reth.dma_length : m_write_remaining;

    // Validate: rxe is strict about WRITE segment sizes (rxe_resp.c:514).
    bool sizes_ok = last ? payload.size() == remaining
                         : payload.size() == m_mtu && remaining > m_mtu && headers.bth.pad_count == 0;
    if (!sizes_ok) {
        nak_and_fail(NakCode::InvalidRequest, psn);
        return;
    }
    if (first && remaining != 0) {
        MemoryRegion* region = m_engine.memory_regions().find(headers.reth.rkey);
        if (region == nullptr || &region->pd() != m_pd
            || region->resolve(headers.reth.virtual_address, remaining, access_remote_write).is_error()) {
            nak_and_fail(NakCode::RemoteAccessError, psn);
            return;
        }
    }
    if (has_immediate(opcode) && m_rq.is_empty()) {
        ++m_engine.mutable_counters().rnr_nak_sent;
        m_nak_sent = true;
        send_ack(AethKind::RnrNak, m_attr.min_rnr_timer, psn);
        return;
    }
    if (first) {
        m_write_rkey = headers.reth.rkey;
        m_write_address = headers.reth.virtual_address;
        m_write_remaining = remaining;
        m_write_length = headers.reth.dma_length;
    }
    if (!payload.is_empty()) {
        // Looked up again per packet: the MR may have gone since FIRST.
        MemoryRegion* region = m_engine.memory_regions().find(m_write_rkey);
        auto target = region == nullptr || &region->pd() != m_pd
            ? ErrorOr<Span<uint8_t>>(Error(Errno::ACCES, "MR gone"))
            : region->resolve(m_write_address, payload.size(), access_remote_write);
        if (target.is_error()) {
            nak_and_fail(NakCode::RemoteAccessError, psn);
            return;
        }
        memcpy(target.value().data(), payload.data(), payload.size());
    }

    // Perform.
    m_write_address += payload.size();
    m_write_remaining -= payload.size();
    m_receiving = last ? Receiving::Nothing : Receiving::Write;
    if (last) {
        m_msn = psn_add(m_msn, 1);
        if (has_immediate(opcode)) {
            WorkCompletion completion;
            completion.opcode = WcOpcode::RecvRdmaWithImm;
            completion.byte_len = m_write_length;
            completion.imm_data = headers.immediate;
            completion.wc_flags = wc_with_imm;
            completion.src_qp = m_attr.dest_qp_num;
            complete_recv(m_rq.front(), completion, headers.bth.solicited);
            m_rq.pop();
        }
    }
    m_epsn = psn_add(m_epsn, 1);
    if (headers.bth.ack_request)
        send_ack(AethKind::Ack, 0x1F, psn);
}

void QueuePair::execute_read(const ReceivedPacket& packet, bool duplicate)
{
    const TransportHeaders& headers = packet.transport.headers;
    uint32_t psn = headers.bth.psn;
    uint64_t length = headers.reth.dma_length;
    Span<uint8_t> source;
    if (length != 0) {
        MemoryRegion* region = m_engine.memory_regions().find(headers.reth.rkey);
        auto resolved = region == nullptr || &region->pd() != m_pd
            ? ErrorOr<Span<uint8_t>>(Error(Errno::ACCES, "no such MR"))
            : region->resolve(headers.reth.virtual_address, length, access_remote_read);
        if (resolved.is_error()) {
            // A bad duplicate is only dropped; the original already got its answer.
            if (!duplicate)
                nak_and_fail(NakCode::RemoteAccessError, psn);
            return;
        }
        source = resolved.value();
    }
    uint32_t packets = response_packets(length, m_mtu);
    if (duplicate) {
        // Never answer for PSNs the original request did not cover.
        uint32_t covered = static_cast<uint32_t>(psn_diff(m_epsn, psn));
        packets = packets < covered ? packets : covered;
    } else {
        m_msn = psn_add(m_msn, 1);
        m_epsn = psn_add(psn, packets);
    }
    for (uint32_t index = 0; index < packets; ++index) {
        bool first = index == 0;
        bool last = index + 1 == response_packets(length, m_mtu);
        TransportHeaders response;
        response.bth.dest_qpn = m_attr.dest_qp_num;
        response.bth.psn = psn_add(psn, index);
        if (first && last)
            response.bth.opcode = Opcode::RcReadResponseOnly;
        else if (first)
            response.bth.opcode = Opcode::RcReadResponseFirst;
        else if (last)
            response.bth.opcode = Opcode::RcReadResponseLast;
        else
            response.bth.opcode = Opcode::RcReadResponseMiddle;
        response.aeth.kind = AethKind::Ack;
        response.aeth.value = 0x1F;
        response.aeth.msn = m_msn;
        uint64_t offset = static_cast<uint64_t>(index) * m_mtu;
        uint64_t size = length - offset < m_mtu ? length - offset : m_mtu;
        Span<const uint8_t> payload = length == 0
            ? Span<const uint8_t>()
            : Span<const uint8_t>(source.slice(static_cast<size_t>(offset), static_cast<size_t>(size)));
        transmit(response, payload);
    }
}

} // namespace tessera::rdma
