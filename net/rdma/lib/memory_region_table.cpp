#include <net/rdma/lib/memory_region_table.h>
#include <net/rdma/lib/protection_domain.h>

namespace tessera::rdma {

namespace {

// rxe's key space: 24 bits of index above 8 bits of tag.
constexpr size_t max_slots = 1u << 24;

} // namespace

uint8_t MemoryRegionTable::next_tag()
{
    // xorshift64: keys need unpredictability against accidents, not attackers.
    m_random ^= m_random << 13;
    m_random ^= m_random >> 7;
    m_random ^= m_random << 17;
    return static_cast<uint8_t>(m_random >> 32);
}

// The analyzer loses track of an OwnPtr moved into ErrorOr (as in
// kernel/lib/containers_check.cpp).
// NOLINTBEGIN(clang-analyzer-cplusplus.NewDeleteLeaks)
ErrorOr<MemoryRegion*> MemoryRegionTable::register_region(
    ProtectionDomain& pd, void* base, uint64_t virtual_address, uint64_t length, uint32_t access)
{
    if ((access & ~access_known_mask) != 0)
        return Error(Errno::INVAL, "MR: unknown access flag");
    // Remote write needs local write (IBA 10.6.3.1, ibv_reg_mr).
    if ((access & access_remote_write) && !(access & access_local_write))
        return Error(Errno::INVAL, "MR: remote write without local write");
    if (base == nullptr && length != 0)
        return Error(Errno::INVAL, "MR: no memory");
    uint64_t end;
    if (__builtin_add_overflow(virtual_address, length, &end))
        return Error(Errno::INVAL, "MR: address range wraps");
    if (m_slots.is_empty())
        TRY(m_slots.try_append(OwnPtr<MemoryRegion>())); // slot 0: never a key
    size_t slot = 0;
    for (size_t i = 1; i < m_slots.size(); ++i) {
        if (!m_slots[i]) {
            slot = i;
            break;
        }
    }
    if (slot == 0) {
        if (m_slots.size() >= max_slots)
            return Error(Errno::NOMEM, "MR: key space exhausted");
        TRY(m_slots.try_append(OwnPtr<MemoryRegion>()));
        slot = m_slots.size() - 1;
    }
    uint32_t key = static_cast<uint32_t>(slot) << 8 | next_tag();
    m_slots[slot]
        = TRY(try_make_own<MemoryRegion>(pd, static_cast<uint8_t*>(base), virtual_address, length, access, key));
    pd.add_user();
    return m_slots[slot].ptr();
}
// NOLINTEND(clang-analyzer-cplusplus.NewDeleteLeaks)

ErrorOr<void> MemoryRegionTable::deregister(MemoryRegion& region)
{
    size_t slot = region.lkey() >> 8;
    if (slot >= m_slots.size() || m_slots[slot].ptr() != &region)
        return Error(Errno::INVAL, "MR: not registered here");
    region.pd().remove_user();
    m_slots[slot] = OwnPtr<MemoryRegion>();
    return {};
}

MemoryRegion* MemoryRegionTable::find(uint32_t key) const
{
    size_t slot = key >> 8;
    if (slot == 0 || slot >= m_slots.size())
        return nullptr;
    MemoryRegion* region = m_slots[slot].ptr();
    if (region == nullptr || region->lkey() != key)
        return nullptr;
    return region;
}

} // namespace tessera::rdma
