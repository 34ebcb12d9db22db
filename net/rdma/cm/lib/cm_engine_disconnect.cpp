// Disconnect on either side: DREQ/DREP and timewait (docs/wire/rdma-cm.md 4.6,
// 4.7, 6.3).
#include <net/rdma/cm/lib/cm_engine.h>

namespace tessera::rdma::cm {

ErrorOr<void> CmEngine::disconnect(CmConnectionId id, uint64_t now_ns)
{
    CmConnection* connection = find_local(id);
    if (!connection)
        return Error(Errno::INVAL, "unknown connection");
    switch (connection->state) {
    case CmState::Established:
        start_dreq(*connection, now_ns);
        return {};
    case CmState::ReqReceived:
        return reject(id, now_ns);
    case CmState::ReqSent:
    case CmState::MraReqReceived:
        // cm_destroy_id in REQ_SENT: REJ 4 "timeout" with our GUID as ARI.
        send_reject(connection->peer, connection->transaction_id, connection->local_id, 0, CmMessageKind::Other,
            RejectReason::Timeout);
        release(*connection);
        return {};
    case CmState::DreqSent:
    case CmState::Timewait:
        return {}; // already on its way out
    default:
        return Error(Errno::INVAL, "connection cannot disconnect in this state");
    }
}

// librdmacm moves the QP to ERR before the DREQ leaves (6.3), so the peer
// sees no RC packet after it.
void CmEngine::start_dreq(CmConnection& connection, uint64_t now_ns)
{
    if (connection.has_qp)
        m_qp_ops.modify_to_error(connection.local_qpn);
    CmDreq dreq;
    dreq.local_comm_id = connection.local_id;
    dreq.remote_comm_id = connection.remote_id;
    dreq.remote_qpn = connection.remote_qpn;
    uint8_t out[mad_size];
    MUST(encode_dreq(dreq, tid_for(connection.local_id), Span<uint8_t>(out, mad_size)));
    connection.state = CmState::DreqSent;
    // The ID's timeout_ms: the REQ timer on the active side, the REQ's
    // LocalCMResponseTimeout on the passive one (6.5).
    uint64_t interval = connection.active ? req_timeout_ns() : rep_timeout_ns(connection.req);
    uint8_t retries = connection.active ? m_config.max_cm_retries : connection.req.max_cm_retries;
    transmit_with_retries(connection, CmAttribute::Dreq, Span<const uint8_t>(out, mad_size), interval, retries, now_ns);
}

CmDrop CmEngine::handle_dreq(Ipv4Address source, const MadHeader& header, Span<const uint8_t> mad, uint64_t now_ns)
{
    CmDreq dreq;
    if (CmDrop drop = decode_dreq(mad, dreq); drop != CmDrop::None)
        return drop;
    CmDrep drep { .local_comm_id = dreq.remote_comm_id, .remote_comm_id = dreq.local_comm_id };
    uint8_t out[mad_size];
    MUST(encode_drep(drep, header.transaction_id, Span<uint8_t>(out, mad_size)));
    Span<const uint8_t> reply(out, mad_size);

    CmConnection* connection = find_both(dreq.remote_comm_id, dreq.local_comm_id);
    if (!connection) {
        // cm_issue_drep: a DREP anyway, so a peer whose DREP was lost after
        // we forgot the connection stops retrying.
        transmit(source, CmAttribute::Drep, reply);
        return CmDrop::None;
    }
    if (dreq.remote_qpn != connection->local_qpn)
        return CmDrop::WrongQpn; // core/cm.c:2844, silently
    switch (connection->state) {
    case CmState::Established:
    case CmState::RepSent: // our REP's RTU was lost, and the peer is already leaving
    case CmState::DreqSent: // both sides disconnecting at once
        if (connection->has_qp)
            m_qp_ops.modify_to_error(connection->local_qpn);
        // Linux sends the DREP when the user calls rdma_disconnect(); rping
        // does at once. We do it here, so no user can leave a peer waiting.
        transmit(connection->peer, CmAttribute::Drep, reply);
        enter_timewait(*connection, now_ns);
        if (!connection->disconnect_reported) {
            connection->disconnect_reported = true;
            emit(*connection, CmEventType::Disconnected);
        }
        return CmDrop::None;
    case CmState::Timewait:
        ++m_counters.duplicates;
        transmit(connection->peer, CmAttribute::Drep, reply);
        return CmDrop::None;
    default:
        return CmDrop::WrongState;
    }
}

CmDrop CmEngine::handle_drep(Span<const uint8_t> mad, uint64_t now_ns)
{
    CmDrep drep;
    if (CmDrop drop = decode_drep(mad, drep); drop != CmDrop::None)
        return drop;
    CmConnection* connection = find_both(drep.remote_comm_id, drep.local_comm_id);
    if (!connection)
        return CmDrop::UnknownConnection;
    if (connection->state == CmState::Timewait) {
        ++m_counters.duplicates;
        return CmDrop::None;
    }
    if (connection->state != CmState::DreqSent)
        return CmDrop::WrongState;
    enter_timewait(*connection, now_ns);
    if (!connection->disconnect_reported) {
        connection->disconnect_reported = true;
        emit(*connection, CmEventType::Disconnected);
    }
    return CmDrop::None;
}

} // namespace tessera::rdma::cm
