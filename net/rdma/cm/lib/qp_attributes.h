#pragma once
// The QP attributes of a CM connection, derived from its REQ and REP the way
// Linux does (docs/wire/rdma-cm.md 6.6: cm_init_qp_*_attr, rdma_init_qp_attr).

#include <net/rdma/cm/lib/cm_rep.h>
#include <net/rdma/cm/lib/cm_req.h>
#include <net/rdma/cm/lib/qp_ops.h>

namespace tessera::rdma::cm {

struct QpAttributes {
    QpInitAttributes init;
    QpRtrAttributes rtr;
    QpRtsAttributes rts;
};

// REMOTE_WRITE always, READ and ATOMIC only with responder resources.
uint32_t qp_access_flags(uint8_t responder_resources);

// The passive QP: `req` received, `rep` about to be sent. `hop_limit` is the
// route's (Linux ignores the REQ's hop limit). VERIFYs nothing: the caller
// checked that both GIDs are IPv4-mapped.
QpAttributes passive_qp_attributes(const CmReq& req, const CmRep& rep, uint8_t hop_limit);

// The active QP: `req` sent, `rep` received; `packet_lifetime` is the path's
// (18 on RoCE), which with the REP's Target ACK Delay sets the ACK timeout.
QpAttributes active_qp_attributes(const CmReq& req, const CmRep& rep, uint8_t packet_lifetime);

} // namespace tessera::rdma::cm
