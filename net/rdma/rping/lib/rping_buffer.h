#pragma once
// One buffer of an rping session and its memory region, deregistered with
// the buffer (rping_setup_buffers registers each buffer as its own MR).

#include <kernel/lib/error_or.h>
#include <kernel/lib/own_ptr.h>
#include <kernel/lib/span.h>
#include <kernel/lib/vector.h>
#include <net/rdma/lib/roce_engine.h>

namespace tessera::rdma::rping {

class RpingBuffer {
public:
    static ErrorOr<OwnPtr<RpingBuffer>> try_create(
        RoceEngine& engine, ProtectionDomain& pd, size_t size, uint32_t access);
    ~RpingBuffer();
    RpingBuffer(const RpingBuffer&) = delete;
    RpingBuffer& operator=(const RpingBuffer&) = delete;

    Span<uint8_t> bytes() { return Span<uint8_t>(m_bytes.data(), m_bytes.size()); }
    Span<const uint8_t> bytes() const { return Span<const uint8_t>(m_bytes.data(), m_bytes.size()); }
    uint64_t address() const { return m_region->virtual_address(); }
    uint32_t rkey() const { return m_region->rkey(); }
    Sge sge(uint32_t length) const { return { address(), length, m_region->lkey() }; }

private:
    explicit RpingBuffer(RoceEngine& engine)
        : m_engine(engine)
    {
    }

    RoceEngine& m_engine;
    Vector<uint8_t> m_bytes;
    MemoryRegion* m_region { nullptr };
};

} // namespace tessera::rdma::rping
