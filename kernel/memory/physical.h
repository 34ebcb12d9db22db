#pragma once
// Physical page frames for the whole kernel: a PageFrameAllocator over all
// usable RAM behind the PageAllocator spinlock.

#include <kernel/lib/error_or.h>
#include <kernel/memory/lib/memory_region.h>

namespace tessera {

struct BootMemory {
    const MemoryRegion* regions;
    size_t region_count;
    // Ranges in use by the time the allocator starts (kernel image, boot
    // information, modules); never handed out.
    const PhysicalRange* reserved;
    size_t reserved_count;
};

// Sanitizes the firmware map, places the allocator's bitmap in RAM below
// 4 GiB (reachable through the boot physmap) and takes ownership of every
// usable page. Fails when there is no usable memory.
ErrorOr<void> physical_memory_initialize(const BootMemory& boot);

ErrorOr<uint64_t> allocate_physical_page();
ErrorOr<uint64_t> allocate_physical_pages(size_t count);
ErrorOr<uint64_t> allocate_physical_page_below(uint64_t limit);
ErrorOr<void> free_physical_page(uint64_t physical);
ErrorOr<void> free_physical_pages(uint64_t physical, size_t count);

struct PhysicalMemoryStats {
    uint64_t total_pages;
    uint64_t free_pages;
    uint64_t highest_address;
};
PhysicalMemoryStats physical_memory_stats();

} // namespace tessera
