#include <net/rdma/cm/lib/rping_descriptor.h>
#include <net/rdma/rping/lib/rping_client_session.h>

namespace tessera::rdma::rping {

namespace {

// Room for more than 16 bytes, so that a too-long SEND is "bogus data" too.
constexpr size_t receive_buffer_size = 32;
constexpr uint32_t buffer_access = access_local_write | access_remote_read | access_remote_write;

enum WrId : uint64_t {
    wr_receive = 1,
    wr_descriptor = 2,
};

} // namespace

// The static analyzer loses track of which ErrorOr union member is live on
// TRY's error path and reports a leak that cannot happen (as in
// net/rdma/cm/lib/cm_engine.cpp; the host tests under ASan cover the path).
// NOLINTBEGIN(clang-analyzer-cplusplus.NewDeleteLeaks)
ErrorOr<OwnPtr<RpingClientSession>> RpingClientSession::try_create(
    RoceEngine& engine, ProtectionDomain& pd, QueuePair& qp, const RpingClientOptions& options)
{
    if (options.size < rping_min_size || options.size > rping_max_size)
        return Error(Errno::INVAL, "rping size out of range");
    if (options.count == 0)
        return Error(Errno::INVAL, "rping count must be at least 1");
    auto session = TRY(adopt_own_if_nonnull(new (kstd::nothrow) RpingClientSession(qp, options)));
    session->m_receive = TRY(RpingBuffer::try_create(engine, pd, receive_buffer_size, access_local_write));
    session->m_send = TRY(RpingBuffer::try_create(engine, pd, 2 * cm::rping_descriptor_size, 0));
    session->m_start = TRY(RpingBuffer::try_create(engine, pd, options.size, buffer_access));
    session->m_rdma = TRY(RpingBuffer::try_create(engine, pd, options.size, buffer_access));
    session->m_result.size = options.size;
    return session;
}
// NOLINTEND(clang-analyzer-cplusplus.NewDeleteLeaks)

ErrorOr<void> RpingClientSession::prepare()
{
    if (m_state != State::Idle)
        return Error(Errno::INVAL, "rping client already prepared");
    TRY(post_receive());
    m_state = State::Prepared;
    return {};
}

ErrorOr<void> RpingClientSession::start()
{
    if (m_state == State::Idle)
        TRY(prepare());
    if (m_state != State::Prepared)
        return Error(Errno::INVAL, "rping client already started");
    return begin_ping();
}

ErrorOr<void> RpingClientSession::post_receive()
{
    RecvWr wr;
    wr.wr_id = wr_receive;
    wr.sg_list[0] = m_receive->sge(receive_buffer_size);
    wr.num_sge = 1;
    return m_qp.post_recv(wr);
}

ErrorOr<void> RpingClientSession::send_descriptor(size_t slot, const RpingBuffer& buffer)
{
    size_t offset = slot * cm::rping_descriptor_size;
    cm::encode_rping_descriptor({ .address = buffer.address(), .rkey = buffer.rkey(), .size = m_options.size },
        m_send->bytes().slice(offset, cm::rping_descriptor_size));
    SendWr wr;
    wr.wr_id = wr_descriptor;
    wr.opcode = WrOpcode::Send;
    wr.send_flags = send_signaled;
    Sge sge = m_send->sge(cm::rping_descriptor_size);
    sge.addr += offset;
    wr.sg_list[0] = sge;
    wr.num_sge = 1;
    return m_qp.post_send(wr);
}

ErrorOr<void> RpingClientSession::begin_ping()
{
    cm::fill_rping_pattern(m_result.pings, m_start->bytes());
    TRY(send_descriptor(0, *m_start));
    m_state = State::WaitGoAhead1;
    return {};
}

void RpingClientSession::on_completion(const WorkCompletion& completion)
{
    if (m_state == State::Finished)
        return; // flushes after the end
    if (completion.status != WcStatus::Success) {
        // A flush means the QP went to ERR: a disconnect, judged by
        // on_disconnected(), or an error whose own completion came first.
        if (completion.status == WcStatus::WrFlushErr)
            return;
        m_result.has_completion = true;
        m_result.completion_opcode = completion.opcode;
        m_result.completion_status = completion.status;
        finish_with(RpingStatus::Fail, "completion error");
        return;
    }
    if (completion.wr_id == wr_receive) {
        on_receive(completion);
        return;
    }
    // Our own SENDs: rping does not wait for them.
}

void RpingClientSession::on_receive(const WorkCompletion& completion)
{
    if (completion.byte_len != cm::rping_descriptor_size) {
        finish_with(RpingStatus::Fail, "bogus data");
        return;
    }
    if (m_state == State::WaitGoAhead1) {
        fail_on_error(post_receive(), "cannot repost receive");
        if (m_state == State::Finished)
            return;
        fail_on_error(send_descriptor(1, *m_rdma), "cannot post descriptor");
        if (m_state != State::Finished)
            m_state = State::WaitGoAhead2;
        return;
    }
    if (m_state != State::WaitGoAhead2) {
        finish_with(RpingStatus::Fail, "unexpected receive");
        return;
    }
    if (m_options.verify) {
        auto sent = m_start->bytes();
        auto echoed = m_rdma->bytes();
        for (size_t i = 0; i < m_options.size; ++i) {
            if (sent[i] != echoed[i]) {
                finish_with(RpingStatus::Fail, "data mismatch");
                return;
            }
        }
    }
    ++m_result.pings;
    if (m_result.pings == m_options.count) {
        finish_with(RpingStatus::Pass, "");
        return;
    }
    fail_on_error(post_receive(), "cannot repost receive");
    if (m_state == State::Finished)
        return;
    fail_on_error(begin_ping(), "cannot post descriptor");
}

void RpingClientSession::on_disconnected()
{
    if (m_state != State::Finished)
        finish_with(RpingStatus::Fail, "disconnected during the run");
}

void RpingClientSession::fail(const char* reason)
{
    if (m_state != State::Finished)
        finish_with(RpingStatus::Fail, reason);
}

void RpingClientSession::finish_with(RpingStatus status, const char* reason)
{
    m_result.status = status;
    m_result.reason = reason;
    m_state = State::Finished;
}

void RpingClientSession::fail_on_error(const ErrorOr<void>& result, const char* reason)
{
    if (result.is_error())
        finish_with(RpingStatus::Fail, reason);
}

} // namespace tessera::rdma::rping
