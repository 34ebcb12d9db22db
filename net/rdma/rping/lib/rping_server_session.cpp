#include <net/rdma/cm/lib/rping_descriptor.h>
#include <net/rdma/rping/lib/rping_server_session.h>

namespace tessera::rdma::rping {

namespace {

// Room for more than a descriptor, so that a too-long SEND is seen and named
// "bogus data" as a too-short one is, instead of failing the receive.
constexpr size_t receive_buffer_size = 32;

enum WrId : uint64_t {
    wr_receive = 1,
    wr_go_ahead = 2,
    wr_read = 3,
    wr_write = 4,
};

SendWr one_sge_wr(uint64_t wr_id, WrOpcode opcode, Sge sge)
{
    SendWr wr;
    wr.wr_id = wr_id;
    wr.opcode = opcode;
    wr.send_flags = send_signaled;
    wr.sg_list[0] = sge;
    wr.num_sge = 1;
    return wr;
}

} // namespace

// The static analyzer loses track of which ErrorOr union member is live on
// TRY's error path and reports a leak that cannot happen (as in
// net/rdma/cm/lib/cm_engine.cpp; the host tests under ASan cover the path).
// NOLINTBEGIN(clang-analyzer-cplusplus.NewDeleteLeaks)
ErrorOr<OwnPtr<RpingServerSession>> RpingServerSession::try_create(
    RoceEngine& engine, ProtectionDomain& pd, QueuePair& qp, const RpingServerOptions& options)
{
    if (options.buffer_size < rping_min_size || options.buffer_size > rping_max_size)
        return Error(Errno::INVAL, "rping server buffer size out of range");
    auto session = TRY(adopt_own_if_nonnull(new (kstd::nothrow) RpingServerSession(qp, options)));
    session->m_receive = TRY(RpingBuffer::try_create(engine, pd, receive_buffer_size, access_local_write));
    session->m_go_ahead = TRY(RpingBuffer::try_create(engine, pd, cm::rping_descriptor_size, 0));
    // rping_setup_buffers: the rdma buffer is remotely readable and writable
    // on both sides, although only the client's are used remotely.
    session->m_rdma = TRY(RpingBuffer::try_create(
        engine, pd, options.buffer_size, access_local_write | access_remote_read | access_remote_write));
    return session;
}
// NOLINTEND(clang-analyzer-cplusplus.NewDeleteLeaks)

ErrorOr<void> RpingServerSession::start()
{
    if (m_state != State::Idle)
        return Error(Errno::INVAL, "rping server already started");
    TRY(post_receive());
    m_state = State::WaitReadAdvert;
    return {};
}

ErrorOr<void> RpingServerSession::post_receive()
{
    RecvWr wr;
    wr.wr_id = wr_receive;
    wr.sg_list[0] = m_receive->sge(receive_buffer_size);
    wr.num_sge = 1;
    return m_qp.post_recv(wr);
}

ErrorOr<void> RpingServerSession::post_go_ahead()
{
    return m_qp.post_send(one_sge_wr(wr_go_ahead, WrOpcode::Send, m_go_ahead->sge(cm::rping_descriptor_size)));
}

void RpingServerSession::on_completion(const WorkCompletion& completion)
{
    if (m_state == State::Finished)
        return; // flushes after the end
    if (completion.status != WcStatus::Success) {
        // A flush means the QP went to ERR: a disconnect (the client's DREQ
        // may overtake the ACK of go-ahead #2), which on_disconnected()
        // judges by the state, or an error whose own completion came first.
        if (completion.status == WcStatus::WrFlushErr)
            return;
        fail_completion(completion);
        return;
    }
    switch (completion.wr_id) {
    case wr_receive:
        on_receive(completion);
        return;
    case wr_go_ahead:
        return; // rping does not wait for its SENDs
    case wr_read:
        if (m_state != State::Reading) {
            finish_with(RpingStatus::Fail, "unexpected READ completion");
            return;
        }
        m_state = State::WaitWriteAdvert;
        fail_on_error(post_go_ahead(), "cannot post go-ahead");
        return;
    case wr_write:
        if (m_state != State::Writing) {
            finish_with(RpingStatus::Fail, "unexpected WRITE completion");
            return;
        }
        ++m_result.pings;
        m_state = State::WaitReadAdvert;
        fail_on_error(post_go_ahead(), "cannot post go-ahead");
        return;
    default:
        finish_with(RpingStatus::Fail, "unknown completion");
        return;
    }
}

void RpingServerSession::on_receive(const WorkCompletion& completion)
{
    // rping's CQ handler reposts before it looks at the data.
    auto reposted = post_receive();
    if (reposted.is_error()) {
        finish_with(RpingStatus::Fail, "cannot repost receive");
        return;
    }
    if (completion.byte_len != cm::rping_descriptor_size) {
        finish_with(RpingStatus::Fail, "bogus data");
        return;
    }
    auto decoded = cm::decode_rping_descriptor(m_receive->bytes().first(cm::rping_descriptor_size));
    if (decoded.is_error()) {
        finish_with(RpingStatus::Fail, "bogus data");
        return;
    }
    const auto& descriptor = decoded.value();
    if (m_state == State::WaitReadAdvert) {
        if (descriptor.size == 0 || descriptor.size > m_rdma->bytes().size()) {
            finish_with(RpingStatus::Fail, "descriptor size out of range");
            return;
        }
        if (m_options.expected_size != 0 && descriptor.size != m_options.expected_size) {
            finish_with(RpingStatus::Fail, "wrong ping size");
            return;
        }
        if (m_result.pings > 0 && descriptor.size != m_result.size) {
            finish_with(RpingStatus::Fail, "descriptor size changed");
            return;
        }
        m_result.size = descriptor.size;
        m_read_length = descriptor.size;
        SendWr wr = one_sge_wr(wr_read, WrOpcode::RdmaRead, m_rdma->sge(descriptor.size));
        wr.remote_addr = descriptor.address;
        wr.rkey = descriptor.rkey;
        m_state = State::Reading;
        fail_on_error(m_qp.post_send(wr), "cannot post READ");
        return;
    }
    if (m_state == State::WaitWriteAdvert) {
        // rping writes strlen(rdma_buf) + 1 bytes; the pattern has its only
        // NUL at the end, so that is the READ's length. Bounded by what was
        // read, whatever the client sent.
        auto data = m_rdma->bytes();
        uint32_t length = 0;
        while (length < m_read_length && data[length] != 0)
            ++length;
        if (length < m_read_length)
            ++length;
        SendWr wr = one_sge_wr(wr_write, WrOpcode::RdmaWrite, m_rdma->sge(length));
        wr.remote_addr = descriptor.address;
        wr.rkey = descriptor.rkey;
        m_state = State::Writing;
        fail_on_error(m_qp.post_send(wr), "cannot post WRITE");
        return;
    }
    finish_with(RpingStatus::Fail, "unexpected receive");
}

void RpingServerSession::on_disconnected()
{
    if (m_state == State::Finished)
        return;
    if (m_state != State::WaitReadAdvert) {
        finish_with(RpingStatus::Fail, "disconnected during a ping");
        return;
    }
    if (m_result.pings == 0) {
        finish_with(RpingStatus::Fail, "disconnected before any ping");
        return;
    }
    if (m_options.expected_count != 0 && m_result.pings != m_options.expected_count) {
        finish_with(RpingStatus::Fail, "wrong ping count");
        return;
    }
    finish_with(RpingStatus::Pass, "");
}

void RpingServerSession::fail(const char* reason)
{
    if (m_state != State::Finished)
        finish_with(RpingStatus::Fail, reason);
}

void RpingServerSession::finish_with(RpingStatus status, const char* reason)
{
    m_result.status = status;
    m_result.reason = reason;
    m_state = State::Finished;
}

void RpingServerSession::fail_completion(const WorkCompletion& completion)
{
    m_result.has_completion = true;
    m_result.completion_opcode = completion.opcode;
    m_result.completion_status = completion.status;
    finish_with(RpingStatus::Fail, "completion error");
}

void RpingServerSession::fail_on_error(const ErrorOr<void>& result, const char* reason)
{
    if (result.is_error())
        finish_with(RpingStatus::Fail, reason);
}

} // namespace tessera::rdma::rping
