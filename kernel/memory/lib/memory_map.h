#pragma once
// Turns the firmware's memory map into the RAM the kernel may hand out.
//
// Firmware maps are messy: entries come unsorted, duplicated, overlapping
// (a usable entry may overlap a reserved one), unaligned, of zero length or
// running past the end of the address space. Everything here is therefore
// untrusted input, and the answer errs on the side of "not usable".

#include <kernel/lib/error_or.h>
#include <kernel/memory/lib/memory_region.h>

namespace tessera {

// Writes the usable RAM to `out` as sorted, disjoint, non-adjacent,
// page-aligned, non-empty ranges and returns how many it wrote. A byte is
// usable when some Usable region covers it and
//  - no region of any other type covers it (overlaps resolve to "not usable"),
//  - no `reserved` range covers it (kernel image, boot info, modules),
//  - it is not in the first page (physical 0 stays unmapped and unused).
// Each resulting piece is shrunk to whole pages (base up, end down).
//
// A region or reserved range whose base + length overflows is clamped to end
// at 2^64 - 1: for a non-usable entry that is the cautious reading, and a
// usable one can never yield more than the pages below that limit.
// A region type outside MemoryType counts as not usable.
//
// Errors: EINVAL for a null array with a non-zero count, or when no usable
// page is left (including an empty map); ENOSPC when `out_capacity` is too
// small (the contents of `out` are then unspecified).
//
// Runs in O((count + reserved_count)^2) time and constant space: it walks the
// region boundaries in address order without sorting or copying the input.
ErrorOr<size_t> sanitize_memory_map(const MemoryRegion* regions, size_t count, const PhysicalRange* reserved,
    size_t reserved_count, PhysicalRange* out, size_t out_capacity);

// One past the last usable byte: the largest base + length over `ranges`
// (0 for none). Saturates at 2^64 - 1 instead of wrapping.
uint64_t highest_usable_address(const PhysicalRange* ranges, size_t count);

// The sum of the lengths of `ranges`; saturates at 2^64 - 1 instead of
// wrapping (only possible for ranges that overlap, i.e. not sanitized).
uint64_t total_bytes(const PhysicalRange* ranges, size_t count);

} // namespace tessera
