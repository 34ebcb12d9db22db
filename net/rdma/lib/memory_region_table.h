#pragma once
// The engine's memory regions, found by key in O(1): key = slot << 8 | tag,
// where the tag is 8 random bits (as rxe), so a stale or guessed key misses.
// Slot 0 is never used, so key 0 is always invalid.

#include <kernel/lib/error_or.h>
#include <kernel/lib/own_ptr.h>
#include <kernel/lib/vector.h>
#include <net/rdma/lib/memory_region.h>

namespace tessera::rdma {

class MemoryRegionTable {
public:
    explicit MemoryRegionTable(uint64_t seed)
        : m_random(seed | 1)
    {
    }

    ErrorOr<MemoryRegion*> register_region(
        ProtectionDomain& pd, void* base, uint64_t virtual_address, uint64_t length, uint32_t access);
    ErrorOr<void> deregister(MemoryRegion& region);

    // The region with this key, or nullptr.
    MemoryRegion* find(uint32_t key) const;

private:
    uint8_t next_tag();

    Vector<OwnPtr<MemoryRegion>> m_slots;
    uint64_t m_random;
};

} // namespace tessera::rdma
