#include <kernel/lib/string.h>
#include <net/rdma/lib/protection_domain.h>
#include <net/rdma/lib/sge_copy.h>

namespace tessera::rdma {

namespace {

constexpr uint64_t max_message_size = 1ull << 31;

ErrorOr<Span<uint8_t>> resolve_sge(
    const MemoryRegionTable& regions, const ProtectionDomain& pd, const Sge& sge, uint32_t required_access)
{
    MemoryRegion* region = regions.find(sge.lkey);
    if (region == nullptr || &region->pd() != &pd)
        return Error(Errno::ACCES, "SGE: lkey not valid in this PD");
    return region->resolve(sge.addr, sge.length, required_access);
}

// Walks the SGEs covering [offset, offset + size) and calls
// copy(sge bytes, message position) for each piece.
template<typename Copy>
ErrorOr<void> walk(const MemoryRegionTable& regions, const ProtectionDomain& pd, Span<const Sge> sges, uint64_t offset,
    size_t size, uint32_t required_access, Copy copy)
{
    size_t done = 0;
    uint64_t start = 0;
    for (const Sge& sge : sges) {
        if (done == size)
            break;
        uint64_t end = start + sge.length;
        if (offset + done < end) {
            Span<uint8_t> bytes = TRY(resolve_sge(regions, pd, sge, required_access));
            size_t within = static_cast<size_t>(offset + done - start);
            size_t piece = static_cast<size_t>(end - (offset + done));
            if (piece > size - done)
                piece = size - done;
            if (piece != 0)
                copy(bytes.slice(within, piece), done);
            done += piece;
        }
        start = end;
    }
    if (done != size)
        return Error(Errno::FAULT, "SGE: range past the end of the list");
    return {};
}

} // namespace

ErrorOr<uint64_t> sge_total_length(Span<const Sge> sges)
{
    if (sges.size() > max_sge)
        return Error(Errno::INVAL, "too many SGEs");
    uint64_t total = 0;
    for (const Sge& sge : sges)
        total += sge.length; // at most 4 * 2^32: cannot overflow 64 bits
    if (total > max_message_size)
        return Error(Errno::INVAL, "message larger than 2^31 bytes");
    return total;
}

ErrorOr<void> check_sges(
    const MemoryRegionTable& regions, const ProtectionDomain& pd, Span<const Sge> sges, uint32_t required_access)
{
    for (const Sge& sge : sges)
        TRY(resolve_sge(regions, pd, sge, required_access));
    return {};
}

ErrorOr<void> gather_from_sges(const MemoryRegionTable& regions, const ProtectionDomain& pd, Span<const Sge> sges,
    uint64_t offset, Span<uint8_t> out)
{
    return walk(regions, pd, sges, offset, out.size(), 0,
        [&](Span<uint8_t> piece, size_t position) { memcpy(out.data() + position, piece.data(), piece.size()); });
}

ErrorOr<void> scatter_to_sges(const MemoryRegionTable& regions, const ProtectionDomain& pd, Span<const Sge> sges,
    uint64_t offset, Span<const uint8_t> data)
{
    return walk(regions, pd, sges, offset, data.size(), access_local_write,
        [&](Span<uint8_t> piece, size_t position) { memcpy(piece.data(), data.data() + position, piece.size()); });
}

} // namespace tessera::rdma
