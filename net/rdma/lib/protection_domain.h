#pragma once
// A protection domain: memory regions and queue pairs of one PD may be used
// together, and a remote access through a QP reaches only MRs of its PD.

#include <kernel/lib/kstd.h>

namespace tessera::rdma {

class ProtectionDomain {
public:
    explicit ProtectionDomain(uint32_t handle)
        : m_handle(handle)
    {
    }
    uint32_t handle() const { return m_handle; }
    // Objects (MRs, QPs) still using the PD; dealloc refuses while non-zero.
    uint32_t users() const { return m_users; }
    void add_user() { ++m_users; }
    void remove_user() { --m_users; }

private:
    uint32_t m_handle;
    uint32_t m_users { 0 };
};

} // namespace tessera::rdma
