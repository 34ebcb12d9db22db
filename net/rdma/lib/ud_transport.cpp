// UD: one packet per message, no ACKs. Sends complete as soon as the packet
// is out. Receives land after a 40-byte GRH area whose last 20 bytes hold
// the IPv4 header, as rxe delivers RoCE v2 over IPv4 (libibverbs UD users
// skip 40 bytes). QP1 (GSI) is a UD QP with the fixed Q_Key 0x80010000.

#include <kernel/lib/string.h>
#include <net/rdma/lib/psn.h>
#include <net/rdma/lib/queue_pair.h>
#include <net/rdma/lib/roce_engine.h>
#include <net/rdma/lib/sge_copy.h>

namespace tessera::rdma {

void QueuePair::send_ud(SendWqe& wqe)
{
    const SendWr& wr = wqe.wr;
    TransportHeaders headers;
    bool immediate = wr.opcode == WrOpcode::SendWithImm;
    headers.bth.opcode = immediate ? Opcode::UdSendOnlyImm : Opcode::UdSendOnly;
    headers.bth.dest_qpn = wr.remote_qpn;
    headers.bth.psn = m_req_psn;
    headers.bth.solicited = (wr.send_flags & send_solicited) != 0;
    // IBA 10.2.4: a Q_Key with the high bit set means "use the QP's own".
    headers.deth.qkey = (wr.remote_qkey & 0x80000000u) ? m_qkey : wr.remote_qkey;
    headers.deth.source_qpn = m_qpn;
    headers.immediate = wr.imm_data;
    Span<uint8_t> buffer = m_engine.payload_buffer().first(static_cast<size_t>(wqe.length));
    Span<const Sge> sges(wr.sg_list, wr.num_sge);
    if (gather_from_sges(m_engine.memory_regions(), *m_pd, sges, 0, buffer).is_error()) {
        fail_wqe(m_sq.head(), WcStatus::LocProtErr);
        return;
    }
    PacketAddressing addressing;
    addressing.destination = wr.ah.destination;
    addressing.hop_limit = wr.ah.hop_limit;
    addressing.traffic_class = wr.ah.traffic_class;
    addressing.udp_source_port = roce_udp_source_port(m_qpn, wr.remote_qpn);
    m_engine.transmit(addressing, headers, buffer);
    m_req_psn = psn_add(m_req_psn, 1);
    complete_send(wqe, WcStatus::Success);
    m_sq.pop();
    m_req_index = m_sq.head();
}

void QueuePair::receive_ud(const ReceivedPacket& packet)
{
    RoceCounters& counters = m_engine.mutable_counters();
    const TransportHeaders& headers = packet.transport.headers;
    if (headers.deth.qkey != m_qkey) {
        ++counters.dropped[static_cast<size_t>(DropReason::BadQkey)];
        return;
    }
    if (m_rq.is_empty()) {
        ++counters.dropped[static_cast<size_t>(DropReason::NoReceiveWqe)];
        return;
    }
    RecvWqe& wqe = m_rq.front();
    WorkCompletion completion;
    completion.opcode = WcOpcode::Recv;
    completion.src_qp = headers.deth.source_qpn;
    completion.source = packet.addressing.source;
    Span<const uint8_t> payload = packet.transport.payload;
    uint64_t needed = ud_grh_size + payload.size();
    if (needed > wqe.length) {
        completion.status = WcStatus::LocLenErr;
        complete_recv(wqe, completion, false);
        m_rq.pop();
        return;
    }
    uint8_t grh[ud_grh_size] {};
    memcpy(grh + ud_grh_size - packet.ip_header.size(), packet.ip_header.data(), packet.ip_header.size());
    Span<const Sge> sges(wqe.wr.sg_list, wqe.wr.num_sge);
    const MemoryRegionTable& regions = m_engine.memory_regions();
    if (scatter_to_sges(regions, *m_pd, sges, 0, Span<const uint8_t>(grh)).is_error()
        || scatter_to_sges(regions, *m_pd, sges, ud_grh_size, payload).is_error()) {
        completion.status = WcStatus::LocProtErr;
        complete_recv(wqe, completion, false);
        m_rq.pop();
        return;
    }
    completion.byte_len = static_cast<uint32_t>(needed);
    completion.wc_flags = wc_grh;
    if (headers.bth.opcode == Opcode::UdSendOnlyImm) {
        completion.imm_data = headers.immediate;
        completion.wc_flags |= wc_with_imm;
    }
    complete_recv(wqe, completion, headers.bth.solicited);
    m_rq.pop();
}

} // namespace tessera::rdma
