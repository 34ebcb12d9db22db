#include <net/rdma/cm/lib/cm_ids.h>
#include <net/rdma/cm/lib/qp_attributes.h>

namespace tessera::rdma::cm {

namespace {

Ipv4Address gid_ipv4_or_zero(const Gid& gid) { return ipv4_from_gid(gid).value_or(Ipv4Address {}); }

} // namespace

uint32_t qp_access_flags(uint8_t responder_resources)
{
    uint32_t flags = QpAccessLocalWrite | QpAccessRemoteWrite;
    if (responder_resources > 0)
        flags |= QpAccessRemoteRead | QpAccessRemoteAtomic;
    return flags;
}

QpAttributes passive_qp_attributes(const CmReq& req, const CmRep& rep, uint8_t hop_limit)
{
    QpAttributes a;
    a.init.access_flags = qp_access_flags(rep.responder_resources);
    // The reverse path of the REQ's: its local GID is our destination.
    a.rtr.source = gid_ipv4_or_zero(req.primary_remote_gid);
    a.rtr.destination = gid_ipv4_or_zero(req.primary_local_gid);
    a.rtr.flow_label = req.primary_flow_label;
    a.rtr.traffic_class = req.primary_traffic_class;
    a.rtr.hop_limit = hop_limit;
    a.rtr.path_mtu = req.path_mtu; // as is: the REP has no MTU to negotiate
    a.rtr.dest_qpn = req.local_qpn;
    a.rtr.rq_psn = rep.starting_psn;
    a.rtr.max_dest_rd_atomic = rep.responder_resources;
    a.rts.sq_psn = req.starting_psn;
    // Linux stores packet lifetime = timeout - 1 and adds 1 back; 0 gives 1.
    a.rts.timeout = req.primary_local_ack_timeout == 0 ? 1 : req.primary_local_ack_timeout;
    a.rts.retry_count = req.retry_count;
    a.rts.rnr_retry = req.rnr_retry_count;
    a.rts.max_rd_atomic = rep.initiator_depth;
    return a;
}

QpAttributes active_qp_attributes(const CmReq& req, const CmRep& rep, uint8_t packet_lifetime)
{
    QpAttributes a;
    a.init.access_flags = qp_access_flags(req.responder_resources);
    a.rtr.source = gid_ipv4_or_zero(req.primary_local_gid);
    a.rtr.destination = gid_ipv4_or_zero(req.primary_remote_gid);
    a.rtr.flow_label = req.primary_flow_label;
    a.rtr.traffic_class = req.primary_traffic_class;
    a.rtr.hop_limit = req.primary_hop_limit;
    a.rtr.path_mtu = req.path_mtu;
    a.rtr.dest_qpn = rep.local_qpn;
    a.rtr.rq_psn = req.starting_psn;
    a.rtr.max_dest_rd_atomic = rep.initiator_depth;
    a.rts.sq_psn = rep.starting_psn;
    a.rts.timeout = cm_ack_timeout(rep.target_ack_delay, packet_lifetime);
    a.rts.retry_count = req.retry_count;
    a.rts.rnr_retry = rep.rnr_retry_count;
    a.rts.max_rd_atomic = rep.responder_resources;
    return a;
}

} // namespace tessera::rdma::cm
