#pragma once
// A registered memory region: `length` bytes at `base` (where the engine
// reads and writes), known to peers as [virtual_address, +length) under
// `rkey`. Every access, local (an SGE) or remote (a RETH), goes through
// resolve(), which checks the access flags and the bounds with
// overflow-safe arithmetic before handing out a pointer.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>
#include <net/rdma/lib/verbs.h>

namespace tessera::rdma {

class MemoryRegion {
public:
    MemoryRegion(
        ProtectionDomain& pd, uint8_t* base, uint64_t virtual_address, uint64_t length, uint32_t access, uint32_t key)
        : m_pd(pd)
        , m_base(base)
        , m_virtual_address(virtual_address)
        , m_length(length)
        , m_access(access)
        , m_key(key)
    {
    }

    ProtectionDomain& pd() const { return m_pd; }
    uint64_t virtual_address() const { return m_virtual_address; }
    uint64_t length() const { return m_length; }
    uint32_t access() const { return m_access; }
    // rxe hands out one key as both lkey and rkey: index << 8 | 8 random bits.
    uint32_t lkey() const { return m_key; }
    uint32_t rkey() const { return m_key; }

    // The bytes [address, address + length) if they lie inside the region
    // and every bit of `required_access` is granted. Local reads need no
    // flag (required_access 0). ACCES for a missing flag, FAULT out of bounds.
    ErrorOr<Span<uint8_t>> resolve(uint64_t address, uint64_t length, uint32_t required_access) const;

private:
    ProtectionDomain& m_pd;
    uint8_t* m_base;
    uint64_t m_virtual_address;
    uint64_t m_length;
    uint32_t m_access;
    uint32_t m_key;
};

} // namespace tessera::rdma
