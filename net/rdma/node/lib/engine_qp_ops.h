#pragma once
// The CM's QP operations (cm/lib/qp_ops.h) on the RoCE engine: the CM's
// derived INIT/RTR/RTS attributes become QpAttr + mask exactly as
// ib_modify_qp_is_ok requires them for an RC QP (the engine checks them the
// same way), so a CM connection's QP is set up as rdma_cm sets up rxe's.

#include <net/rdma/cm/lib/qp_ops.h>
#include <net/rdma/lib/roce_engine.h>

namespace tessera::rdma {

class EngineQpOps final : public cm::CmQpOps {
public:
    explicit EngineQpOps(RoceEngine& engine)
        : m_engine(engine)
    {
    }

    // `context` is a `const QpInitAttr*` (the CM calls create_rc_qp
    // synchronously from connect()/accept(), while the caller's params live).
    ErrorOr<uint32_t> create_rc_qp(uint64_t context) override;
    ErrorOr<void> modify_to_init(uint32_t qpn, const cm::QpInitAttributes& attributes) override;
    ErrorOr<void> modify_to_rtr(uint32_t qpn, const cm::QpRtrAttributes& attributes) override;
    ErrorOr<void> modify_to_rts(uint32_t qpn, const cm::QpRtsAttributes& attributes) override;
    void modify_to_error(uint32_t qpn) override;
    void destroy_qp(uint32_t qpn) override;

    static uint64_t context_of(const QpInitAttr& init) { return reinterpret_cast<uintptr_t>(&init); }

private:
    ErrorOr<QueuePair*> find(uint32_t qpn) const;

    RoceEngine& m_engine;
};

} // namespace tessera::rdma
