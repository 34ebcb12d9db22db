#include <net/rdma/node/lib/engine_qp_ops.h>

namespace tessera::rdma {

ErrorOr<QueuePair*> EngineQpOps::find(uint32_t qpn) const
{
    QueuePair* qp = qpn == gsi_qpn ? nullptr : m_engine.find_qp(qpn);
    if (qp == nullptr)
        return Error(Errno::INVAL, "no such QP");
    return qp;
}

ErrorOr<uint32_t> EngineQpOps::create_rc_qp(uint64_t context)
{
    if (context == 0)
        return Error(Errno::INVAL, "no QP attributes");
    QpInitAttr init = *reinterpret_cast<const QpInitAttr*>(static_cast<uintptr_t>(context));
    init.qp_type = QpType::Rc;
    QueuePair* qp = TRY(m_engine.create_qp(init));
    return qp->qp_num();
}

ErrorOr<void> EngineQpOps::modify_to_init(uint32_t qpn, const cm::QpInitAttributes& attributes)
{
    QueuePair* qp = TRY(find(qpn));
    QpAttr attr;
    attr.qp_state = QpState::Init;
    // Atomics are not implemented: the engine refuses the bit it does not know.
    attr.qp_access_flags = attributes.access_flags & access_known_mask;
    attr.pkey_index = attributes.pkey_index;
    attr.port_num = 1;
    return qp->modify(attr, qp_attr_state | qp_attr_access_flags | qp_attr_pkey_index | qp_attr_port);
}

ErrorOr<void> EngineQpOps::modify_to_rtr(uint32_t qpn, const cm::QpRtrAttributes& attributes)
{
    QueuePair* qp = TRY(find(qpn));
    if (attributes.path_mtu < static_cast<uint8_t>(PathMtu::Mtu256)
        || attributes.path_mtu > static_cast<uint8_t>(PathMtu::Mtu4096))
        return Error(Errno::INVAL, "bad path MTU");
    QpAttr attr;
    attr.qp_state = QpState::Rtr;
    // RoCE v2 over IPv4: the GIDs are the addresses. The engine derives the
    // UDP source port from the QPNs, not from the flow label (rxe uses the
    // flow label when it is non-zero); the wire stays valid either way.
    attr.ah_attr = { .destination = attributes.destination,
        .hop_limit = attributes.hop_limit,
        .traffic_class = attributes.traffic_class };
    attr.path_mtu = static_cast<PathMtu>(attributes.path_mtu);
    attr.dest_qp_num = attributes.dest_qpn;
    attr.rq_psn = attributes.rq_psn;
    attr.max_dest_rd_atomic = attributes.max_dest_rd_atomic;
    attr.min_rnr_timer = attributes.min_rnr_timer;
    return qp->modify(attr,
        qp_attr_state | qp_attr_av | qp_attr_path_mtu | qp_attr_dest_qpn | qp_attr_rq_psn | qp_attr_max_dest_rd_atomic
            | qp_attr_min_rnr_timer);
}

ErrorOr<void> EngineQpOps::modify_to_rts(uint32_t qpn, const cm::QpRtsAttributes& attributes)
{
    QueuePair* qp = TRY(find(qpn));
    QpAttr attr;
    attr.qp_state = QpState::Rts;
    attr.sq_psn = attributes.sq_psn;
    attr.timeout = attributes.timeout;
    attr.retry_cnt = attributes.retry_count;
    attr.rnr_retry = attributes.rnr_retry;
    attr.max_rd_atomic = attributes.max_rd_atomic;
    return qp->modify(attr,
        qp_attr_state | qp_attr_sq_psn | qp_attr_timeout | qp_attr_retry_cnt | qp_attr_rnr_retry
            | qp_attr_max_qp_rd_atomic);
}

void EngineQpOps::modify_to_error(uint32_t qpn)
{
    auto qp = find(qpn);
    if (qp.is_error())
        return;
    QpAttr attr;
    attr.qp_state = QpState::Err;
    // Any state may go to ERR; nothing else is required.
    (void)qp.value()->modify(attr, qp_attr_state);
}

void EngineQpOps::destroy_qp(uint32_t qpn)
{
    auto qp = find(qpn);
    if (qp.is_error())
        return;
    (void)m_engine.destroy_qp(*qp.value());
}

} // namespace tessera::rdma
