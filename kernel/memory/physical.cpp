#include <arch/paging.h>
#include <kernel/console/console.h>
#include <kernel/lib/checked.h>
#include <kernel/locking/spinlock.h>
#include <kernel/memory/lib/memory_map.h>
#include <kernel/memory/lib/page_frame_allocator.h>
#include <kernel/memory/physical.h>

namespace tessera {

namespace {

constexpr size_t max_usable_ranges = 128;
constinit PhysicalRange s_usable[max_usable_ranges] {};
constinit size_t s_usable_count = 0;
constinit uint64_t s_highest_address = 0;

SpinlockProtected<PageFrameAllocator, LockRank::PageAllocator> s_allocator;

// Carves `bytes` (page-rounded) out of the first usable range below 4 GiB
// that can hold them, for the allocator's own bitmap.
ErrorOr<uint64_t> carve_bitmap(size_t bytes)
{
    uint64_t needed = TRY(checked_align_up<uint64_t>(bytes, page_size));
    for (size_t i = 0; i < s_usable_count; ++i) {
        PhysicalRange& range = s_usable[i];
        if (range.length >= needed && range.base + needed <= BOOT_PHYSMAP_SIZE) {
            uint64_t base = range.base;
            range.base += needed;
            range.length -= needed;
            return base;
        }
    }
    return Error(Errno::NOMEM, "no room for the page bitmap below 4 GiB");
}

} // namespace

ErrorOr<void> physical_memory_initialize(const BootMemory& boot)
{
    s_usable_count = TRY(sanitize_memory_map(
        boot.regions, boot.region_count, boot.reserved, boot.reserved_count, s_usable, max_usable_ranges));
    s_highest_address = highest_usable_address(s_usable, s_usable_count);
    size_t bitmap_bytes = PageFrameAllocator::bitmap_bytes_needed(s_usable, s_usable_count);
    uint64_t bitmap_physical = TRY(carve_bitmap(bitmap_bytes));
    auto* words = static_cast<uint64_t*>(arch::physical_to_virtual(bitmap_physical));
    return s_allocator.with([&](PageFrameAllocator& allocator) {
        return allocator.initialize(s_usable, s_usable_count, words, bitmap_bytes);
    });
}

ErrorOr<uint64_t> allocate_physical_page()
{
    return s_allocator.with([](PageFrameAllocator& allocator) { return allocator.allocate_page(); });
}

ErrorOr<uint64_t> allocate_physical_pages(size_t count)
{
    return s_allocator.with([&](PageFrameAllocator& allocator) { return allocator.allocate_contiguous(count, 1); });
}

ErrorOr<uint64_t> allocate_physical_page_below(uint64_t limit)
{
    return s_allocator.with([&](PageFrameAllocator& allocator) { return allocator.allocate_page_below(limit); });
}

ErrorOr<void> free_physical_page(uint64_t physical) { return free_physical_pages(physical, 1); }

ErrorOr<void> free_physical_pages(uint64_t physical, size_t count)
{
    return s_allocator.with([&](PageFrameAllocator& allocator) { return allocator.free_pages(physical, count); });
}

PhysicalMemoryStats physical_memory_stats()
{
    return s_allocator.with([](PageFrameAllocator& allocator) {
        return PhysicalMemoryStats { allocator.total_pages(), allocator.free_pages(), s_highest_address };
    });
}

} // namespace tessera
