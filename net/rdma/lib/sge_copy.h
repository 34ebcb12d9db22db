#pragma once
// Copies between a message's byte range and its scatter/gather list. Every
// SGE's lkey is looked up and checked (PD, bounds, LOCAL_WRITE for writes)
// on every copy, not once at post time: an MR may be deregistered while a
// WQE waits, and then the copy fails instead of touching freed memory.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>
#include <net/rdma/lib/memory_region_table.h>

namespace tessera::rdma {

// Sum of the SGE lengths; INVAL for too many SGEs or a sum above 2^31 (the
// IBA message size limit).
ErrorOr<uint64_t> sge_total_length(Span<const Sge> sges);

// Checks every SGE now (used at post time to fail early).
ErrorOr<void> check_sges(
    const MemoryRegionTable& regions, const ProtectionDomain& pd, Span<const Sge> sges, uint32_t required_access);

// Message bytes [offset, offset + out.size()) into `out`.
ErrorOr<void> gather_from_sges(const MemoryRegionTable& regions, const ProtectionDomain& pd, Span<const Sge> sges,
    uint64_t offset, Span<uint8_t> out);

// `data` into message bytes [offset, offset + data.size()); LOCAL_WRITE needed.
ErrorOr<void> scatter_to_sges(const MemoryRegionTable& regions, const ProtectionDomain& pd, Span<const Sge> sges,
    uint64_t offset, Span<const uint8_t> data);

} // namespace tessera::rdma
