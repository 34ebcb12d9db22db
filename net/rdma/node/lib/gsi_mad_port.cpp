#include <kernel/lib/string.h>
#include <net/rdma/node/lib/gsi_mad_port.h>
#include <net/rdma/node/lib/rdma_node.h>

namespace tessera::rdma {

namespace {

// wr_id: receives are their buffer index, sends have this bit set.
constexpr uint64_t send_wr_flag = 1ull << 63;

} // namespace

GsiMadPort::GsiMadPort(RoceEngine& engine, RdmaNodeCounters& counters)
    : m_engine(engine)
    , m_counters(counters)
{
}

// The static analyzer loses track of which ErrorOr union member is live on
// TRY's error path and reports a leak that cannot happen (as in
// net/rdma/cm/lib/cm_engine.cpp; host tests under ASan cover the path).
// NOLINTBEGIN(clang-analyzer-cplusplus.NewDeleteLeaks)
ErrorOr<OwnPtr<GsiMadPort>> GsiMadPort::try_create(
    RoceEngine& engine, size_t receive_buffers, size_t send_slots, RdmaNodeCounters& counters)
{
    if (receive_buffers == 0 || send_slots == 0)
        return Error(Errno::INVAL, "GSI port needs buffers");
    auto port = TRY(try_make_own<GsiMadPort>(engine, counters));
    port->m_receive_buffers = receive_buffers;
    TRY(port->m_buffer.try_resize(receive_buffers * receive_size + send_slots * mad_size));
    TRY(port->m_slot_busy.try_resize(send_slots));
    port->m_pd = TRY(engine.alloc_pd());
    port->m_cq = TRY(engine.create_cq(2 * (receive_buffers + send_slots)));
    port->m_mr = TRY(engine.register_mr(*port->m_pd, port->m_buffer.data(), port->m_buffer.size(), access_local_write));
    port->m_qp = TRY(engine.create_qp({ .qp_type = QpType::Gsi,
        .pd = port->m_pd,
        .send_cq = port->m_cq,
        .recv_cq = port->m_cq,
        .max_send_wr = static_cast<uint32_t>(send_slots),
        .max_recv_wr = static_cast<uint32_t>(receive_buffers),
        .sq_sig_all = true }));
    // QP 1's Q_Key is fixed; it needs no attributes but the states.
    QpAttr attr;
    attr.qp_state = QpState::Init;
    TRY(port->m_qp->modify(attr, qp_attr_state));
    attr.qp_state = QpState::Rtr;
    TRY(port->m_qp->modify(attr, qp_attr_state));
    attr.qp_state = QpState::Rts;
    TRY(port->m_qp->modify(attr, qp_attr_state | qp_attr_sq_psn));
    for (size_t i = 0; i < receive_buffers; ++i)
        TRY(port->post_receive(i));
    return port;
}

// NOLINTEND(clang-analyzer-cplusplus.NewDeleteLeaks)

GsiMadPort::~GsiMadPort()
{
    if (m_qp)
        (void)m_engine.destroy_qp(*m_qp);
    if (m_mr)
        (void)m_engine.deregister_mr(*m_mr);
    if (m_cq)
        (void)m_engine.destroy_cq(*m_cq);
    if (m_pd)
        (void)m_engine.dealloc_pd(*m_pd);
}

ErrorOr<void> GsiMadPort::post_receive(size_t index)
{
    RecvWr wr;
    wr.wr_id = index;
    wr.sg_list[0]
        = { m_mr->virtual_address() + index * receive_size, static_cast<uint32_t>(receive_size), m_mr->lkey() };
    wr.num_sge = 1;
    return m_qp->post_recv(wr);
}

void GsiMadPort::send_mad(Ipv4Address destination, uint32_t remote_qpn, uint32_t qkey, Span<const uint8_t> mad)
{
    if (mad.size() != mad_size) {
        ++m_counters.mad_send_errors;
        return;
    }
    size_t slots = m_slot_busy.size();
    size_t slot = slots;
    for (size_t i = 0; i < slots; ++i) {
        size_t candidate = (m_next_slot + i) % slots;
        if (!m_slot_busy[candidate]) {
            slot = candidate;
            break;
        }
    }
    if (slot == slots) {
        ++m_counters.mad_send_no_slot;
        return;
    }
    size_t offset = m_receive_buffers * receive_size + slot * mad_size;
    memcpy(m_buffer.data() + offset, mad.data(), mad_size);
    SendWr wr;
    wr.wr_id = send_wr_flag | slot;
    wr.opcode = WrOpcode::Send;
    wr.sg_list[0] = { m_mr->virtual_address() + offset, static_cast<uint32_t>(mad_size), m_mr->lkey() };
    wr.num_sge = 1;
    wr.ah = { .destination = destination, .hop_limit = 64, .traffic_class = 0 };
    wr.remote_qpn = remote_qpn;
    wr.remote_qkey = qkey;
    if (m_qp->post_send(wr).is_error()) {
        ++m_counters.mad_send_errors;
        return;
    }
    m_slot_busy[slot] = true;
    m_next_slot = (slot + 1) % slots;
    ++m_counters.mads_sent;
}

size_t GsiMadPort::process_completions(MadHandler handler, void* context)
{
    size_t delivered = 0;
    WorkCompletion completions[16];
    while (size_t n = m_cq->poll(Span<WorkCompletion>(completions, 16))) {
        for (size_t i = 0; i < n; ++i) {
            const WorkCompletion& wc = completions[i];
            if (wc.wr_id & send_wr_flag) {
                size_t slot = static_cast<size_t>(wc.wr_id & ~send_wr_flag);
                if (slot < m_slot_busy.size())
                    m_slot_busy[slot] = false;
                if (wc.status != WcStatus::Success)
                    ++m_counters.mad_send_errors;
                continue;
            }
            auto index = static_cast<size_t>(wc.wr_id);
            if (index >= m_receive_buffers)
                continue;
            if (wc.status != WcStatus::Success) {
                // A flush means QP 1 is in ERR, which nothing here does.
                ++m_counters.mad_receive_errors;
            } else if (wc.byte_len != receive_size) {
                ++m_counters.mad_bad_length;
            } else {
                ++m_counters.mads_received;
                ++delivered;
                handler(context, wc.source,
                    Span<const uint8_t>(m_buffer.data() + index * receive_size + ud_grh_size, mad_size));
            }
            if (post_receive(index).is_error())
                ++m_counters.mad_receive_errors;
        }
    }
    return delivered;
}

} // namespace tessera::rdma
