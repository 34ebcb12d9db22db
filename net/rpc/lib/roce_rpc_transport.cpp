#include <kernel/lib/string.h>
#include <managers/protocol/lib/message_header.h>
#include <net/rpc/lib/roce_rpc_transport.h>
#include <net/rpc/lib/rpc_endpoint.h>

namespace tessera::rpc {

using namespace tessera::rdma;

static_assert(protocol::kMaxMessageSize == 4128, "the transport's buffer size follows the protocol's largest message");

namespace {

// SENDs and RECVs put a tag in the low 32 bits of wr_id. A work id's low 32
// bits are an exchange slot below kMaxServing, so it never has these.
constexpr uint64_t kTagMask = 0xFFFF'0000;
constexpr uint64_t kSendTag = 0xFFFF'0000;
constexpr uint64_t kRecvTag = 0xFFFE'0000;
constexpr uint64_t kIndexMask = 0xFFFF;
static_assert(RpcEndpoint::kMaxServing <= 0xFFFE'0000);

// Each completion status as the errno the endpoint's failure hook hears.
Errno reason_for(WcStatus status)
{
    switch (status) {
    case WcStatus::RetryExcErr:
    case WcStatus::RnrRetryExcErr:
        return Errno::TIMEDOUT; // the peer stopped acknowledging
    case WcStatus::RemAccessErr:
    case WcStatus::RemInvReqErr:
    case WcStatus::RemOpErr:
        return Errno::REMOTEIO;
    case WcStatus::WrFlushErr:
        return Errno::CONNRESET; // the QP went to ERR for a reason seen elsewhere
    default:
        return Errno::IO;
    }
}

} // namespace

// NOLINTBEGIN(clang-analyzer-cplusplus.NewDeleteLeaks): OwnPtr owns the object on every path.
ErrorOr<OwnPtr<RoceRpcTransport>> RoceRpcTransport::try_create(RoceEngine& engine, ProtectionDomain& pd, QueuePair& qp,
    CompletionQueue& send_cq, CompletionQueue& recv_cq, RoceRpcTransportConfig config)
{
    if (qp.type() != QpType::Rc)
        return Error(Errno::INVAL, "rpc over RoCE needs an RC queue pair");
    if (qp.state() == QpState::Reset || qp.state() == QpState::Err)
        return Error(Errno::INVAL, "rpc over RoCE: QP not initialized");
    if (config.window == 0 || config.window > RpcEndpoint::kMaxWindow)
        return Error(Errno::INVAL, "rpc over RoCE: window out of range");
    uint32_t receive_count = 2 * config.window;
    uint32_t send_count = config.send_buffers != 0 ? config.send_buffers : 4 * config.window;
    if (send_count > kIndexMask || receive_count > kIndexMask)
        return Error(Errno::INVAL, "rpc over RoCE: too many buffers");
    auto transport = TRY(adopt_own_if_nonnull(
        new (kstd::nothrow) RoceRpcTransport(engine, pd, qp, send_cq, recv_cq, receive_count, send_count)));
    TRY(transport->set_up());
    return transport;
}
// NOLINTEND(clang-analyzer-cplusplus.NewDeleteLeaks)

RoceRpcTransport::RoceRpcTransport(RoceEngine& engine, ProtectionDomain& pd, QueuePair& qp, CompletionQueue& send_cq,
    CompletionQueue& recv_cq, uint32_t receive_count, uint32_t send_count)
    : m_engine(engine)
    , m_pd(pd)
    , m_qp(qp)
    , m_send_cq(send_cq)
    , m_recv_cq(recv_cq)
    , m_receive_count(receive_count)
    , m_send_count(send_count)
{
}

RoceRpcTransport::~RoceRpcTransport()
{
    if (m_region != nullptr)
        (void)m_engine.deregister_mr(*m_region);
}

ErrorOr<void> RoceRpcTransport::set_up()
{
    size_t count = static_cast<size_t>(m_receive_count) + m_send_count;
    TRY(m_memory.try_resize(count * kBufferSize));
    // Local write for receives; the peer never touches these buffers.
    m_region = TRY(m_engine.register_mr(m_pd, m_memory.data(), m_memory.size(), access_local_write));
    TRY(m_free_sends.try_resize(m_send_count));
    for (uint32_t i = 0; i < m_send_count; ++i)
        m_free_sends[i] = m_receive_count + i;
    m_free_count = m_send_count;
    for (uint32_t i = 0; i < m_receive_count; ++i)
        TRY(post_receive(i));
    return {};
}

size_t RoceRpcTransport::max_message_size() const { return kBufferSize; }

uint64_t RoceRpcTransport::buffer_va(uint32_t index) const
{
    return m_region->virtual_address() + static_cast<uint64_t>(index) * kBufferSize;
}

ErrorOr<void> RoceRpcTransport::post_receive(uint32_t index)
{
    RecvWr wr;
    wr.wr_id = kRecvTag | index;
    wr.sg_list[0] = { buffer_va(index), static_cast<uint32_t>(kBufferSize), m_region->lkey() };
    wr.num_sge = 1;
    return m_qp.post_recv(wr);
}

ErrorOr<void> RoceRpcTransport::send(Span<const uint8_t> message, uint64_t)
{
    if (m_failed)
        return Error(Errno::NOTCONN, "rpc over RoCE: the QP failed");
    if (message.size() > kBufferSize)
        return Error(Errno::MSGSIZE, "rpc over RoCE: message too large");
    if (m_free_count == 0) {
        ++m_counters.send_buffer_exhausted;
        return Error(Errno::AGAIN, "rpc over RoCE: no free send buffer");
    }
    uint32_t index = m_free_sends[--m_free_count];
    memcpy(buffer(index), message.data(), message.size());
    SendWr wr;
    wr.wr_id = kSendTag | index;
    wr.opcode = WrOpcode::Send;
    wr.send_flags = send_signaled; // the completion returns the buffer
    wr.sg_list[0] = { buffer_va(index), static_cast<uint32_t>(message.size()), m_region->lkey() };
    wr.num_sge = 1;
    auto posted = m_qp.post_send(wr);
    if (posted.is_error()) {
        m_free_sends[m_free_count++] = index;
        return posted.release_error();
    }
    ++m_counters.messages_sent;
    return {};
}

ErrorOr<Sge> RoceRpcTransport::local_sge(Span<const uint8_t> local, uint32_t lkey) const
{
    MemoryRegion* region = m_engine.memory_regions().find(lkey);
    if (region == nullptr || &region->pd() != &m_pd)
        return Error(Errno::INVAL, "rpc over RoCE: lkey names no region of this PD");
    if (local.size() > 0xFFFF'FFFFu)
        return Error(Errno::MSGSIZE, "rpc over RoCE: RDMA too large for one SGE");
    // The region's bytes, to turn the pointer into its VA (no access needed
    // for a local read; the engine checks local write itself at post time).
    auto whole = TRY(region->resolve(region->virtual_address(), region->length(), 0));
    auto start = reinterpret_cast<uintptr_t>(local.data());
    auto base = reinterpret_cast<uintptr_t>(whole.data());
    if (start < base || start - base > whole.size() || local.size() > whole.size() - (start - base))
        return Error(Errno::FAULT, "rpc over RoCE: local bytes outside the region");
    return Sge { region->virtual_address() + (start - base), static_cast<uint32_t>(local.size()), lkey };
}

ErrorOr<void> RoceRpcTransport::post_rdma(uint64_t work_id, WrOpcode opcode, Sge sge, RemoteBuffer remote)
{
    if (m_failed)
        return Error(Errno::NOTCONN, "rpc over RoCE: the QP failed");
    if ((work_id & kTagMask) == kSendTag || (work_id & kTagMask) == kRecvTag)
        return Error(Errno::INVAL, "rpc over RoCE: work id collides with a buffer tag");
    if (sge.length > remote.length)
        return Error(Errno::MSGSIZE, "rpc over RoCE: RDMA beyond the remote buffer");
    SendWr wr;
    wr.wr_id = work_id;
    wr.opcode = opcode;
    wr.send_flags = send_signaled;
    wr.sg_list[0] = sge;
    wr.num_sge = 1;
    wr.remote_addr = remote.address;
    wr.rkey = remote.rkey;
    TRY(m_qp.post_send(wr));
    ++m_rdma_outstanding;
    ++m_counters.rdma_posted;
    return {};
}

ErrorOr<void> RoceRpcTransport::rdma_write(
    uint64_t work_id, Span<const uint8_t> local, uint32_t lkey, RemoteBuffer remote, uint64_t)
{
    Sge sge = TRY(local_sge(local, lkey));
    return post_rdma(work_id, WrOpcode::RdmaWrite, sge, remote);
}

ErrorOr<void> RoceRpcTransport::rdma_read(
    uint64_t work_id, RemoteBuffer remote, Span<uint8_t> local, uint32_t lkey, uint64_t)
{
    Sge sge = TRY(local_sge(local, lkey));
    return post_rdma(work_id, WrOpcode::RdmaRead, sge, remote);
}

size_t RoceRpcTransport::drain_completions(uint64_t now_ns)
{
    size_t handled = 0;
    // Sends first: a SEND completion frees a buffer a receive callback may
    // want for its reply.
    drain(m_send_cq, now_ns, handled);
    if (&m_recv_cq != &m_send_cq)
        drain(m_recv_cq, now_ns, handled);
    if (!m_failed && m_qp.state() == QpState::Err)
        fail(Errno::CONNRESET, now_ns);
    return handled;
}

void RoceRpcTransport::drain(CompletionQueue& cq, uint64_t now_ns, size_t& handled)
{
    WorkCompletion batch[16];
    // Callbacks may post (and a post on an ERR QP completes at once), so
    // poll until the CQ stays empty.
    while (size_t count = cq.poll(Span<WorkCompletion>(batch, 16))) {
        for (size_t i = 0; i < count; ++i)
            handle(batch[i], now_ns);
        handled += count;
    }
}

void RoceRpcTransport::handle(const WorkCompletion& completion, uint64_t now_ns)
{
    bool ok = completion.status == WcStatus::Success;
    if (!ok) {
        ++m_counters.error_completions;
        // The first error decides the reason the hook hears; every pending
        // request of the endpoint fails with it before anything else runs.
        fail(reason_for(completion.status), now_ns);
    }
    uint64_t tag = completion.wr_id & kTagMask;
    uint64_t index = completion.wr_id & kIndexMask;
    if (tag == kSendTag && (completion.wr_id >> 32) == 0) {
        if (index < m_receive_count || index >= m_receive_count + m_send_count || m_free_count == m_send_count) {
            ++m_counters.stray_completions;
            return;
        }
        m_free_sends[m_free_count++] = static_cast<uint32_t>(index);
        return;
    }
    if (tag == kRecvTag && (completion.wr_id >> 32) == 0) {
        if (index >= m_receive_count) {
            ++m_counters.stray_completions;
            return;
        }
        if (!ok || m_failed)
            return; // flushed: not reposted, the QP is done
        ++m_counters.messages_received;
        uint32_t length = completion.byte_len <= kBufferSize ? completion.byte_len : kBufferSize;
        if (m_sink != nullptr)
            m_sink->transport_received({ buffer(static_cast<uint32_t>(index)), length }, now_ns);
        // Reposted only once the endpoint is done with the bytes.
        if (!m_failed && post_receive(static_cast<uint32_t>(index)).is_error())
            fail(Errno::CONNRESET, now_ns);
        return;
    }
    // An RDMA WRITE or READ: its wr_id is the exchange's work id.
    if (m_rdma_outstanding == 0) {
        ++m_counters.stray_completions;
        return;
    }
    --m_rdma_outstanding;
    ++m_counters.rdma_completed;
    if (!ok)
        ++m_counters.rdma_failed;
    if (m_sink == nullptr)
        return;
    if (ok)
        m_sink->transport_rdma_completed(completion.wr_id, {}, now_ns);
    else
        m_sink->transport_rdma_completed(completion.wr_id, Error(reason_for(completion.status), "RDMA failed"), now_ns);
}

void RoceRpcTransport::fail(Errno reason, uint64_t now_ns)
{
    if (m_failed)
        return;
    m_failed = true;
    m_failure_reason = reason;
    if (m_sink != nullptr)
        m_sink->transport_failed(reason, now_ns);
}

} // namespace tessera::rpc
