// CmEngine's shared machinery: creation, listeners, dispatch of received
// MADs, timers, lookups, events. The message handlers live in
// cm_engine_passive.cpp, cm_engine_active.cpp and cm_engine_disconnect.cpp.
#include <kernel/lib/string.h>
#include <net/rdma/cm/lib/cm_engine.h>

namespace tessera::rdma::cm {

// The static analyzer loses track of which ErrorOr union member is live on
// TRY's error path and reports a leak that cannot happen (as in
// kernel/lib/containers_check.cpp; host tests under ASan cover the path).
// NOLINTBEGIN(clang-analyzer-cplusplus.NewDeleteLeaks)
ErrorOr<OwnPtr<CmEngine>> CmEngine::try_create(const CmConfig& config, CmMadSink& sink, CmQpOps& qp_ops)
{
    if (config.max_connections == 0)
        return Error(Errno::INVAL, "CM needs room for a connection");
    auto engine = TRY(adopt_own_if_nonnull(new (kstd::nothrow) CmEngine(config, sink, qp_ops)));
    TRY(engine->m_connections.try_resize(config.max_connections));
    TRY(engine->m_listeners.try_reserve(config.max_listeners));
    return engine;
}
// NOLINTEND(clang-analyzer-cplusplus.NewDeleteLeaks)

ErrorOr<void> CmEngine::listen(uint16_t port)
{
    for (uint16_t listening : m_listeners) {
        if (listening == port)
            return Error(Errno::ADDRINUSE, "port already listened on");
    }
    if (m_listeners.size() >= m_config.max_listeners)
        return Error(Errno::NOSPC, "listener table full");
    TRY(m_listeners.try_append(port));
    return {};
}

void CmEngine::stop_listening(uint16_t port)
{
    for (size_t i = 0; i < m_listeners.size(); ++i) {
        if (m_listeners[i] == port) {
            m_listeners.unstable_remove(i);
            return;
        }
    }
}

void CmEngine::on_mad(Ipv4Address source, Span<const uint8_t> mad, uint64_t now_ns)
{
    MadHeader header;
    CmDrop drop = decode_mad_header(mad, header);
    if (drop == CmDrop::None) {
        auto attribute = static_cast<CmAttribute>(header.attribute_id);
        // Linux counts a MAD in cm_rx_msgs once it is past the attribute
        // check, even when its handler then drops it (3.1 step 7).
        ++m_counters.rx[header.attribute_id - 0x10];
        switch (attribute) {
        case CmAttribute::Req:
            drop = handle_req(source, header, mad, now_ns);
            break;
        case CmAttribute::Mra:
            drop = handle_mra(mad, now_ns);
            break;
        case CmAttribute::Rej:
            drop = handle_rej(mad, now_ns);
            break;
        case CmAttribute::Rep:
            drop = handle_rep(mad, now_ns);
            break;
        case CmAttribute::Rtu:
            drop = handle_rtu(mad);
            break;
        case CmAttribute::Dreq:
            drop = handle_dreq(source, header, mad, now_ns);
            break;
        case CmAttribute::Drep:
            drop = handle_drep(mad, now_ns);
            break;
        default:
            drop = CmDrop::UnsupportedAttribute; // decode_mad_header refused these already
            break;
        }
    }
    if (drop != CmDrop::None)
        ++m_counters.drops[static_cast<size_t>(drop)];
}

void CmEngine::poll(uint64_t now_ns)
{
    for (auto& connection : m_connections) {
        if (connection.state == CmState::Free || !connection.timer_armed || connection.deadline_ns > now_ns)
            continue;
        if (connection.retries_left > 0) {
            // The same buffer again, TID included (retry_send, core/mad.c).
            --connection.retries_left;
            ++m_counters.retransmits;
            connection.deadline_ns = now_ns + connection.retry_interval_ns;
            auto attribute = static_cast<CmAttribute>(connection.pending_mad[16] << 8 | connection.pending_mad[17]);
            transmit(connection.peer, attribute, Span<const uint8_t>(connection.pending_mad, mad_size));
            continue;
        }
        connection.timer_armed = false;
        expire(connection, now_ns);
    }
}

uint64_t CmEngine::next_deadline_ns() const
{
    uint64_t next = UINT64_MAX;
    for (const auto& connection : m_connections) {
        if (connection.state != CmState::Free && connection.timer_armed && connection.deadline_ns < next)
            next = connection.deadline_ns;
    }
    return next;
}

// A timer ran out with no retransmission left.
void CmEngine::expire(CmConnection& connection, uint64_t now_ns)
{
    switch (connection.state) {
    case CmState::ReqSent:
    case CmState::MraReqReceived:
    case CmState::RepSent:
        emit(connection, CmEventType::TimedOut);
        release(connection);
        break;
    case CmState::DreqSent:
        // cm_process_send_error: no DREP, but the connection ends anyway.
        enter_timewait(connection, now_ns);
        if (!connection.disconnect_reported) {
            connection.disconnect_reported = true;
            emit(connection, CmEventType::Disconnected);
        }
        break;
    case CmState::Timewait:
        release(connection);
        break;
    default:
        break;
    }
}

CmState CmEngine::state_of(CmConnectionId id) const
{
    const CmConnection* connection = find_local(id);
    return connection ? connection->state : CmState::Free;
}

size_t CmEngine::live_connections() const
{
    size_t count = 0;
    for (const auto& connection : m_connections)
        count += connection.state != CmState::Free ? 1 : 0;
    return count;
}

CmConnection* CmEngine::find_local(uint32_t local_id)
{
    return const_cast<CmConnection*>(static_cast<const CmEngine*>(this)->find_local(local_id));
}

const CmConnection* CmEngine::find_local(uint32_t local_id) const
{
    if (local_id == 0)
        return nullptr;
    for (const auto& connection : m_connections) {
        if (connection.state != CmState::Free && connection.local_id == local_id)
            return &connection;
    }
    return nullptr;
}

CmConnection* CmEngine::find_both(uint32_t local_id, uint32_t remote_id)
{
    CmConnection* connection = find_local(local_id);
    return connection && connection->remote_id == remote_id ? connection : nullptr;
}

CmConnection* CmEngine::find_remote(uint32_t remote_id, uint64_t remote_ca_guid)
{
    for (auto& connection : m_connections) {
        if (connection.keyed() && connection.remote_id == remote_id && connection.remote_ca_guid == remote_ca_guid)
            return &connection;
    }
    return nullptr;
}

CmConnection* CmEngine::find_remote_qpn(uint32_t remote_qpn, uint64_t remote_ca_guid)
{
    for (auto& connection : m_connections) {
        if (connection.keyed() && connection.remote_qpn == remote_qpn && connection.remote_ca_guid == remote_ca_guid)
            return &connection;
    }
    return nullptr;
}

CmConnection* CmEngine::allocate()
{
    for (auto& connection : m_connections) {
        if (connection.state == CmState::Free) {
            connection = CmConnection {};
            connection.local_id = new_local_id();
            return &connection;
        }
    }
    return nullptr;
}

void CmEngine::release(CmConnection& connection)
{
    if (connection.has_qp)
        m_qp_ops.destroy_qp(connection.local_qpn);
    connection = CmConnection {};
}

void CmEngine::enter_timewait(CmConnection& connection, uint64_t now_ns)
{
    // Timewait lasts ms(av.timeout): the path's packet lifetime + 1, which
    // is the REQ's Local ACK Timeout on both sides (6.5).
    connection.state = CmState::Timewait;
    connection.timer_armed = true;
    connection.retries_left = 0;
    connection.deadline_ns = now_ns + cm_time_ns(connection.req.primary_local_ack_timeout);
}

void CmEngine::transmit(Ipv4Address destination, CmAttribute attribute, Span<const uint8_t> mad)
{
    ++m_counters.tx[static_cast<uint16_t>(attribute) - 0x10];
    m_sink.send_mad(destination, gsi_qpn, gsi_qkey, mad);
}

void CmEngine::transmit_with_retries(CmConnection& connection, CmAttribute attribute, Span<const uint8_t> mad,
    uint64_t interval_ns, uint8_t retries, uint64_t now_ns)
{
    memcpy(connection.pending_mad, mad.data(), mad_size);
    connection.timer_armed = true;
    connection.retry_interval_ns = interval_ns;
    connection.retries_left = retries;
    connection.deadline_ns = now_ns + interval_ns;
    transmit(connection.peer, attribute, mad);
}

void CmEngine::emit(
    const CmConnection& connection, CmEventType type, uint16_t reject_reason, Span<const uint8_t> private_data)
{
    CmEvent event;
    event.type = type;
    event.id = connection.local_id;
    event.qpn = connection.has_qp ? connection.local_qpn : 0;
    event.peer_qpn = connection.remote_qpn;
    event.peer = connection.peer;
    event.local_port = connection.local_port;
    event.peer_port = connection.peer_port;
    event.reject_reason = reject_reason;
    size_t size = private_data.size() < sizeof(event.private_data) ? private_data.size() : sizeof(event.private_data);
    if (size > 0)
        memcpy(event.private_data, private_data.data(), size);
    event.private_data_size = static_cast<uint16_t>(size);
    if (type == CmEventType::ConnectRequest) {
        event.responder_resources = connection.req.initiator_depth;
        event.initiator_depth = connection.req.responder_resources;
    }
    if (m_events.try_push(event).is_error())
        ++m_counters.events_lost;
}

uint32_t CmEngine::next_random()
{
    // xorshift64*: deterministic from the seed, which is what host tests
    // need; the kernel seeds it from its entropy at boot.
    m_random ^= m_random >> 12;
    m_random ^= m_random << 25;
    m_random ^= m_random >> 27;
    return static_cast<uint32_t>((m_random * 0x2545F4914F6CDD1DULL) >> 32);
}

uint32_t CmEngine::new_local_id()
{
    // Non-zero and unused, like Linux's xarray index XOR a boot-time random.
    for (;;) {
        uint32_t id = next_random();
        if (id != 0 && find_local(id) == nullptr)
            return id;
    }
}

uint64_t CmEngine::req_timeout_ns() const
{
    // 2 x packet lifetime + the remote CM response timeout (core/cm.c:1539).
    return 2 * cm_time_ns(m_config.packet_lifetime) + cm_time_ns(m_config.cm_response_timeout);
}

void CmEngine::send_reject(Ipv4Address destination, uint64_t transaction_id, uint32_t local_id, uint32_t remote_id,
    CmMessageKind kind, RejectReason reason)
{
    CmRej rej;
    rej.local_comm_id = local_id;
    rej.remote_comm_id = remote_id;
    rej.message_rejected = kind;
    rej.reason = static_cast<uint16_t>(reason);
    if (reason == RejectReason::InvalidGid) {
        // ARI: our GID at index 0 (16 bytes).
        Gid gid = gid_from_ipv4(m_config.local_ip);
        rej.reject_info_length = 16;
        memcpy(rej.additional_reject_info, gid.bytes, 16);
    } else if (reason == RejectReason::Timeout) {
        // ARI: our node GUID (8 bytes), big-endian.
        rej.reject_info_length = 8;
        for (size_t i = 0; i < 8; ++i)
            rej.additional_reject_info[i] = static_cast<uint8_t>(m_config.ca_guid >> (56 - 8 * i));
    }
    uint8_t mad[mad_size];
    MUST(encode_rej(rej, transaction_id, Span<uint8_t>(mad, mad_size)));
    ++m_counters.rejects_sent;
    transmit(destination, CmAttribute::Rej, Span<const uint8_t>(mad, mad_size));
}

} // namespace tessera::rdma::cm
