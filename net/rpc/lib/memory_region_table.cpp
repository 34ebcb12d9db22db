#include <net/rpc/lib/memory_region_table.h>

namespace tessera::rpc {

namespace {

// rkey = generation << 8 | (slot + 1): never 0, and stale after reuse.
constexpr uint32_t make_rkey(size_t slot, uint32_t generation)
{
    return generation << 8 | static_cast<uint32_t>(slot + 1);
}

} // namespace

ErrorOr<protocol::RemoteBuffer> MemoryRegionTable::register_region(Span<uint8_t> bytes, uint8_t access)
{
    if (bytes.is_empty() || bytes.size() > UINT32_MAX)
        return Error(Errno::INVAL, "region must be 1 byte to 4 GiB");
    if (access == 0 || (access & ~(RegionAccessRemoteRead | RegionAccessRemoteWrite)) != 0)
        return Error(Errno::INVAL, "region access bits");
    for (size_t slot = 0; slot < kCapacity; ++slot) {
        Region& region = m_regions[slot];
        if (region.live)
            continue;
        region.base = bytes.data();
        region.length = bytes.size();
        region.access = access;
        region.generation = (region.generation + 1) & 0xFFFFFF;
        region.live = true;
        return protocol::RemoteBuffer { reinterpret_cast<uintptr_t>(bytes.data()), make_rkey(slot, region.generation),
            static_cast<uint32_t>(bytes.size()) };
    }
    return Error(Errno::NOSPC, "memory region table full");
}

ErrorOr<void> MemoryRegionTable::deregister(uint32_t rkey)
{
    size_t slot = (rkey & 0xFF) - 1;
    if ((rkey & 0xFF) == 0 || slot >= kCapacity || !m_regions[slot].live
        || make_rkey(slot, m_regions[slot].generation) != rkey)
        return Error(Errno::NOENT, "no such memory region");
    m_regions[slot].live = false;
    return {};
}

ErrorOr<Span<uint8_t>> MemoryRegionTable::resolve(uint64_t address, uint32_t rkey, size_t length, uint8_t access) const
{
    size_t slot = (rkey & 0xFF) - 1;
    if ((rkey & 0xFF) == 0 || slot >= kCapacity)
        return Error(Errno::ACCES, "rkey names no region");
    const Region& region = m_regions[slot];
    if (!region.live || make_rkey(slot, region.generation) != rkey)
        return Error(Errno::ACCES, "stale rkey");
    if ((region.access & access) != access)
        return Error(Errno::ACCES, "region does not allow this access");
    uint64_t base = reinterpret_cast<uintptr_t>(region.base);
    uint64_t end;
    if (address < base || __builtin_add_overflow(address, length, &end) || end > base + region.length)
        return Error(Errno::ACCES, "range outside the region");
    return Span<uint8_t>(region.base + (address - base), length);
}

} // namespace tessera::rpc
