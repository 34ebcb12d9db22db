// The active side: connect() (QP to INIT, REQ) -> REP (QP to RTR and RTS,
// RTU) -> Established; REJ and MRA for either side (docs/wire/rdma-cm.md 4.2,
// 4.4, 4.5, 6.1, 7).
#include <kernel/lib/string.h>
#include <net/rdma/cm/lib/cm_engine.h>
#include <net/rdma/cm/lib/cma_header.h>
#include <net/rdma/cm/lib/qp_attributes.h>

namespace tessera::rdma::cm {

ErrorOr<CmConnectionId> CmEngine::connect(const CmConnectParams& params, uint64_t now_ns)
{
    if (params.private_data.size() > req_user_private_data_size)
        return Error(Errno::INVAL, "REQ private data is at most 56 bytes");
    CmConnection* connection = allocate();
    if (!connection)
        return Error(Errno::NOSPC, "CM connection table full");

    connection->active = true;
    connection->peer = params.peer;
    connection->local_port
        = params.local_port != 0 ? params.local_port : static_cast<uint16_t>(32768 + next_random() % 28232);
    connection->peer_port = params.port;
    connection->qp_context = params.qp_context;
    auto qpn = m_qp_ops.create_rc_qp(params.qp_context);
    if (qpn.is_error()) {
        release(*connection);
        return qpn.release_error();
    }
    connection->local_qpn = qpn.value();
    connection->has_qp = true;
    if (auto init = m_qp_ops.modify_to_init(
            connection->local_qpn, { .access_flags = qp_access_flags(params.responder_resources) });
        init.is_error()) {
        release(*connection);
        return init.release_error();
    }

    // The values of Linux's REQ (4.1), from cma_resolve_iboe_route.
    CmReq& req = connection->req;
    req.local_comm_id = connection->local_id;
    req.service_id = tcp_service_id(params.port);
    req.local_ca_guid = m_config.ca_guid;
    req.local_qpn = connection->local_qpn;
    req.responder_resources = params.responder_resources;
    req.initiator_depth = params.initiator_depth;
    req.remote_cm_response_timeout = m_config.cm_response_timeout;
    req.transport_type = TransportType::Rc;
    req.starting_psn = next_random() & 0xFFFFFF;
    req.local_cm_response_timeout = m_config.cm_response_timeout;
    req.retry_count = m_config.retry_count;
    req.pkey = 0xFFFF;
    req.path_mtu = m_config.path_mtu;
    req.rnr_retry_count = m_config.rnr_retry_count;
    req.max_cm_retries = m_config.max_cm_retries;
    req.primary_local_lid = 0xFFFF;
    req.primary_remote_lid = 0xFFFF;
    req.primary_local_gid = gid_from_ipv4(m_config.local_ip);
    req.primary_remote_gid = gid_from_ipv4(params.peer);
    req.primary_flow_label = roce_flow_label(connection->local_port, params.port);
    req.primary_hop_limit = m_config.hop_limit;
    req.primary_local_ack_timeout = static_cast<uint8_t>(m_config.packet_lifetime + 1);
    encode_cma_header(
        { .source_port = connection->local_port, .source = m_config.local_ip, .destination = params.peer },
        Span<uint8_t>(req.private_data, req_private_data_size));
    if (!params.private_data.is_empty())
        memcpy(req.private_data + cma_header_size, params.private_data.data(), params.private_data.size());

    connection->transaction_id = tid_for(connection->local_id);
    uint8_t out[mad_size];
    MUST(encode_req(req, connection->transaction_id, Span<uint8_t>(out, mad_size)));
    connection->state = CmState::ReqSent;
    transmit_with_retries(*connection, CmAttribute::Req, Span<const uint8_t>(out, mad_size), req_timeout_ns(),
        m_config.max_cm_retries, now_ns);
    return connection->local_id;
}

CmDrop CmEngine::handle_rep(Span<const uint8_t> mad, uint64_t now_ns)
{
    (void)now_ns;
    CmRep rep;
    if (CmDrop drop = decode_rep(mad, rep); drop != CmDrop::None)
        return drop;
    CmConnection* connection = find_local(rep.remote_comm_id);
    if (!connection)
        return CmDrop::UnknownConnection;
    bool waiting = connection->active && connection->remote_id == 0
        && (connection->state == CmState::ReqSent || connection->state == CmState::MraReqReceived);
    if (!waiting) {
        // cm_dup_rep_handler: a copy of the REP we took, because our RTU was
        // lost. Established: send the RTU again. Anything else: drop.
        if (connection->remote_id != rep.local_comm_id)
            return CmDrop::WrongState;
        ++m_counters.duplicates;
        if (connection->state == CmState::Established) {
            CmRtu rtu { .local_comm_id = connection->local_id, .remote_comm_id = connection->remote_id };
            uint8_t out[mad_size];
            MUST(encode_rtu(rtu, connection->transaction_id, Span<uint8_t>(out, mad_size)));
            transmit(connection->peer, CmAttribute::Rtu, Span<const uint8_t>(out, mad_size));
        }
        return CmDrop::None;
    }

    stop_timer(*connection);
    connection->remote_id = rep.local_comm_id;
    connection->remote_ca_guid = rep.local_ca_guid;
    connection->remote_qpn = rep.local_qpn;
    connection->rep = rep;
    QpAttributes attributes = active_qp_attributes(connection->req, rep, m_config.packet_lifetime);
    bool ready = !m_qp_ops.modify_to_rtr(connection->local_qpn, attributes.rtr).is_error()
        && !m_qp_ops.modify_to_rts(connection->local_qpn, attributes.rts).is_error();
    if (!ready) {
        // cma_rep_recv: REJ 28 for the REP, and the connect fails.
        send_reject(connection->peer, connection->transaction_id, connection->local_id, connection->remote_id,
            CmMessageKind::Rep, RejectReason::ConsumerDefined);
        emit(*connection, CmEventType::Rejected, static_cast<uint16_t>(RejectReason::ConsumerDefined));
        release(*connection);
        return CmDrop::None;
    }
    CmRtu rtu { .local_comm_id = connection->local_id, .remote_comm_id = connection->remote_id };
    uint8_t out[mad_size];
    MUST(encode_rtu(rtu, connection->transaction_id, Span<uint8_t>(out, mad_size)));
    transmit(connection->peer, CmAttribute::Rtu, Span<const uint8_t>(out, mad_size));
    connection->state = CmState::Established;
    emit(*connection, CmEventType::Established, 0, Span<const uint8_t>(rep.private_data, rep_private_data_size));
    return CmDrop::None;
}

CmDrop CmEngine::handle_rej(Span<const uint8_t> mad, uint64_t now_ns)
{
    CmRej rej;
    if (CmDrop drop = decode_rej(mad, rej); drop != CmDrop::None)
        return drop;
    // cm_acquire_rejected_id: a REJ 4 (the active side gave up before our
    // REP reached it) names its sender and its CA GUID; a REJ of our REQ
    // names only us (the rejecter may have no ID); any other names both.
    CmConnection* connection = nullptr;
    if (rej.reason == static_cast<uint16_t>(RejectReason::Timeout) && rej.reject_info_length >= 8) {
        uint64_t guid = 0;
        for (size_t i = 0; i < 8; ++i)
            guid = guid << 8 | rej.additional_reject_info[i];
        connection = find_remote(rej.local_comm_id, guid);
    } else if (rej.message_rejected == CmMessageKind::Req) {
        connection = find_local(rej.remote_comm_id);
    } else {
        connection = find_both(rej.remote_comm_id, rej.local_comm_id);
    }
    if (!connection)
        return CmDrop::UnknownConnection;
    Span<const uint8_t> private_data(rej.private_data, rej_private_data_size);
    switch (connection->state) {
    case CmState::ReqSent:
    case CmState::MraReqReceived:
    case CmState::ReqReceived:
    case CmState::RepSent:
        emit(*connection, CmEventType::Rejected, rej.reason, private_data);
        release(*connection);
        return CmDrop::None;
    case CmState::Established:
    case CmState::DreqSent:
        if (connection->has_qp)
            m_qp_ops.modify_to_error(connection->local_qpn);
        enter_timewait(*connection, now_ns);
        if (!connection->disconnect_reported) {
            connection->disconnect_reported = true;
            emit(*connection, CmEventType::Disconnected);
        }
        return CmDrop::None;
    default:
        return CmDrop::WrongState;
    }
}

CmDrop CmEngine::handle_mra(Span<const uint8_t> mad, uint64_t now_ns)
{
    CmMra mra;
    if (CmDrop drop = decode_mra(mad, mra); drop != CmDrop::None)
        return drop;
    CmConnection* connection = mra.message_mraed == CmMessageKind::Req
        ? find_local(mra.remote_comm_id)
        : find_both(mra.remote_comm_id, mra.local_comm_id);
    if (!connection)
        return CmDrop::UnknownConnection;
    bool req_pending = mra.message_mraed == CmMessageKind::Req && connection->state == CmState::ReqSent;
    bool rep_pending = mra.message_mraed == CmMessageKind::Rep && connection->state == CmState::RepSent;
    if (!req_pending && !rep_pending)
        return CmDrop::WrongState; // Linux acts on one MRA per message
    if (req_pending)
        connection->state = CmState::MraReqReceived;
    // cm_mra_handler: the pending send's next try moves back by the
    // service timeout plus the path's ACK timeout.
    connection->deadline_ns
        = now_ns + cm_time_ns(mra.service_timeout) + cm_time_ns(static_cast<uint8_t>(m_config.packet_lifetime + 1));
    return CmDrop::None;
}

} // namespace tessera::rdma::cm
