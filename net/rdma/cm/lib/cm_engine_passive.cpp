// The passive side: REQ -> ConnectRequest -> accept() (QP to RTS, REP) ->
// RTU -> Established (docs/wire/rdma-cm.md 4.1, 4.3, 5.4, 6.2, 7).
#include <kernel/lib/string.h>
#include <net/rdma/cm/lib/cm_engine.h>
#include <net/rdma/cm/lib/cma_header.h>
#include <net/rdma/cm/lib/qp_attributes.h>

namespace tessera::rdma::cm {

CmDrop CmEngine::handle_req(Ipv4Address source, const MadHeader& header, Span<const uint8_t> mad, uint64_t now_ns)
{
    (void)now_ns;
    CmReq req;
    if (CmDrop drop = decode_req(mad, req); drop != CmDrop::None)
        return drop;

    // A copy of a REQ we know (cm_dup_req_handler): never a second
    // connection. While the user has not answered, Linux's delayed MRA goes
    // out now; in every later state the REP's own timer covers the peer.
    if (CmConnection* known = find_remote(req.local_comm_id, req.local_ca_guid)) {
        ++m_counters.duplicates;
        if (known->state == CmState::ReqReceived) {
            CmMra mra;
            mra.local_comm_id = known->local_id;
            mra.remote_comm_id = known->remote_id;
            mra.message_mraed = CmMessageKind::Req;
            mra.service_timeout = m_config.mra_service_timeout;
            uint8_t out[mad_size];
            MUST(encode_mra(mra, known->transaction_id, Span<uint8_t>(out, mad_size)));
            transmit(known->peer, CmAttribute::Mra, Span<const uint8_t>(out, mad_size));
        }
        return CmDrop::None;
    }

    // Replies built from the packet go to its source (ib_init_ah_attr_from_wc);
    // REJ 8 is sent at once without creating state (cm_issue_rej).
    if (uint16_t reason = refuse_reason(req); reason != 0) {
        send_reject(
            source, header.transaction_id, 0, req.local_comm_id, CmMessageKind::Req, static_cast<RejectReason>(reason));
        return CmDrop::None;
    }

    // Stale: the peer's QPN still belongs to a live connection of ours (it
    // crashed and came back). REJ 10 for the new REQ, DREQ for the old.
    if (CmConnection* stale = find_remote_qpn(req.local_qpn, req.local_ca_guid)) {
        send_reject(
            source, header.transaction_id, 0, req.local_comm_id, CmMessageKind::Req, RejectReason::StaleConnection);
        if (stale->state == CmState::Established)
            start_dreq(*stale, now_ns);
        return CmDrop::None;
    }

    CmConnection* connection = allocate();
    if (!connection) {
        send_reject(source, header.transaction_id, 0, req.local_comm_id, CmMessageKind::Req, RejectReason::NoResources);
        return CmDrop::None;
    }
    CmaHeader cma;
    // refuse_reason() checked it; decode again for the port.
    (void)decode_cma_header(Span<const uint8_t>(req.private_data, req_private_data_size), cma);
    connection->state = CmState::ReqReceived;
    connection->active = false;
    connection->remote_id = req.local_comm_id;
    connection->remote_ca_guid = req.local_ca_guid;
    connection->remote_qpn = req.local_qpn;
    connection->transaction_id = header.transaction_id;
    // The REQ's Primary Local GID, not the packet source, addresses every
    // message of the connection and its RC traffic (5.5).
    connection->peer = ipv4_from_gid(req.primary_local_gid).value();
    connection->local_port = port_from_service_id(req.service_id);
    connection->peer_port = cma.source_port;
    connection->req = req;
    emit(*connection, CmEventType::ConnectRequest, 0,
        Span<const uint8_t>(req.private_data + cma_header_size, req_user_private_data_size));
    return CmDrop::None;
}

// The checks between "a REQ arrived" and "a connection exists", in Linux's
// order (4.1, 5.4). Returns the REJ reason, or 0 to go ahead.
uint16_t CmEngine::refuse_reason(const CmReq& req)
{
    bool listening = false;
    if (is_tcp_service_id(req.service_id) && (req.service_id >> 32) == 0) {
        for (uint16_t port : m_listeners)
            listening |= port == port_from_service_id(req.service_id);
    }
    if (!listening)
        return static_cast<uint16_t>(RejectReason::InvalidServiceId);
    if (!ipv4_from_gid(req.primary_local_gid).has_value() || !ipv4_from_gid(req.primary_remote_gid).has_value())
        return static_cast<uint16_t>(RejectReason::InvalidGid);
    if (req.has_alternate_path())
        return static_cast<uint16_t>(RejectReason::InvalidAlternateGid);
    // The RDMA CM's refusals are all REJ 28 with no private data.
    CmaHeader cma;
    CmaHeaderError cma_error = decode_cma_header(Span<const uint8_t>(req.private_data, req_private_data_size), cma);
    bool bad_cma = cma_error != CmaHeaderError::None || !(cma.destination == m_config.local_ip);
    if (bad_cma)
        ++m_counters.bad_cma_headers;
    bool bad_path = req.path_mtu < 1 || req.path_mtu > 5;
    if (bad_cma || bad_path || req.transport_type != TransportType::Rc)
        return static_cast<uint16_t>(RejectReason::ConsumerDefined);
    return 0;
}

ErrorOr<void> CmEngine::accept(CmConnectionId id, const CmAcceptParams& params, uint64_t now_ns)
{
    CmConnection* connection = find_local(id);
    if (!connection || connection->state != CmState::ReqReceived)
        return Error(Errno::INVAL, "no connect request to accept");
    if (params.private_data.size() > rep_private_data_size)
        return Error(Errno::INVAL, "REP private data is at most 196 bytes");

    auto setup = set_up_passive_qp(*connection, params);
    if (setup.is_error()) {
        send_reject(connection->peer, connection->transaction_id, 0, connection->remote_id, CmMessageKind::Req,
            RejectReason::ConsumerDefined);
        release(*connection);
        return setup.release_error();
    }
    uint8_t out[mad_size];
    MUST(encode_rep(connection->rep, connection->transaction_id, Span<uint8_t>(out, mad_size)));
    connection->state = CmState::RepSent;
    transmit_with_retries(*connection, CmAttribute::Rep, Span<const uint8_t>(out, mad_size),
        rep_timeout_ns(connection->req), connection->req.max_cm_retries, now_ns);
    return {};
}

// Builds the REP and takes the QP to RTS before it leaves, as Linux does:
// the peer may send as soon as it has the REP (6.2).
ErrorOr<void> CmEngine::set_up_passive_qp(CmConnection& connection, const CmAcceptParams& params)
{
    const CmReq& req = connection.req;
    CmRep& rep = connection.rep;
    rep = CmRep {};
    rep.local_comm_id = connection.local_id;
    rep.remote_comm_id = connection.remote_id;
    rep.starting_psn = next_random() & 0xFFFFFF;
    rep.responder_resources
        = params.responder_resources < req.initiator_depth ? params.responder_resources : req.initiator_depth;
    rep.initiator_depth
        = params.initiator_depth < req.responder_resources ? params.initiator_depth : req.responder_resources;
    rep.target_ack_delay = m_config.target_ack_delay;
    rep.rnr_retry_count = m_config.rnr_retry_count;
    rep.local_ca_guid = m_config.ca_guid;
    if (!params.private_data.is_empty())
        memcpy(rep.private_data, params.private_data.data(), params.private_data.size());

    connection.qp_context = params.qp_context;
    connection.local_qpn = TRY(m_qp_ops.create_rc_qp(params.qp_context));
    connection.has_qp = true;
    rep.local_qpn = connection.local_qpn;
    QpAttributes attributes = passive_qp_attributes(req, rep, m_config.hop_limit);
    TRY(m_qp_ops.modify_to_init(connection.local_qpn, attributes.init));
    TRY(m_qp_ops.modify_to_rtr(connection.local_qpn, attributes.rtr));
    TRY(m_qp_ops.modify_to_rts(connection.local_qpn, attributes.rts));
    return {};
}

ErrorOr<void> CmEngine::reject(CmConnectionId id, uint64_t now_ns)
{
    (void)now_ns;
    CmConnection* connection = find_local(id);
    if (!connection || connection->state != CmState::ReqReceived)
        return Error(Errno::INVAL, "no connect request to reject");
    // Rejecting a REQ in REQ_RCVD: local ID 0, as cm_format_rej does.
    send_reject(connection->peer, connection->transaction_id, 0, connection->remote_id, CmMessageKind::Req,
        RejectReason::ConsumerDefined);
    release(*connection);
    return {};
}

CmDrop CmEngine::handle_rtu(Span<const uint8_t> mad)
{
    CmRtu rtu;
    if (CmDrop drop = decode_rtu(mad, rtu); drop != CmDrop::None)
        return drop;
    CmConnection* connection = find_both(rtu.remote_comm_id, rtu.local_comm_id);
    if (!connection)
        return CmDrop::UnknownConnection;
    if (connection->state == CmState::Established) {
        ++m_counters.duplicates; // a copy (cm_rx_duplicates)
        return CmDrop::None;
    }
    if (connection->state != CmState::RepSent)
        return CmDrop::WrongState;
    stop_timer(*connection);
    connection->state = CmState::Established;
    emit(*connection, CmEventType::Established);
    return CmDrop::None;
}

} // namespace tessera::rdma::cm
