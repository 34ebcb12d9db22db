#include <net/rdma/rping/lib/rping_buffer.h>

namespace tessera::rdma::rping {

// The static analyzer loses track of which ErrorOr union member is live on
// TRY's error path and reports a leak that cannot happen (as in
// net/rdma/cm/lib/cm_engine.cpp; the host tests under ASan cover the path).
// NOLINTBEGIN(clang-analyzer-cplusplus.NewDeleteLeaks)
ErrorOr<OwnPtr<RpingBuffer>> RpingBuffer::try_create(
    RoceEngine& engine, ProtectionDomain& pd, size_t size, uint32_t access)
{
    auto buffer = TRY(adopt_own_if_nonnull(new (kstd::nothrow) RpingBuffer(engine)));
    TRY(buffer->m_bytes.try_resize(size)); // value-initialized: zero
    buffer->m_region = TRY(engine.register_mr(pd, buffer->m_bytes.data(), size, access));
    return buffer;
}
// NOLINTEND(clang-analyzer-cplusplus.NewDeleteLeaks)

RpingBuffer::~RpingBuffer()
{
    if (m_region != nullptr)
        (void)m_engine.deregister_mr(*m_region);
}

} // namespace tessera::rdma::rping
