#pragma once
// Physical page frames, one bit each (set = in use), over the sanitized
// ranges from sanitize_memory_map(). The bitmap spans the lowest range base
// to the highest range end; pages in the holes between ranges start, and
// stay, in use.
//
// Allocation is lowest-address first: a "lowest possibly free" hint makes
// the common single-page case next-fit fast without changing which page
// is returned.
//
// Not thread-safe: the kernel wraps the allocator in a SpinlockProtected.

#include <kernel/lib/bitmap.h>
#include <kernel/lib/error_or.h>
#include <kernel/memory/lib/memory_region.h>

namespace tessera {

class PageFrameAllocator {
public:
    // The allocator keeps its own copy of the ranges, so that the caller's
    // array may be temporary; more ranges than this is a firmware map too
    // fragmented to trust.
    static constexpr size_t max_ranges = 128;

    // Bytes of bitmap storage initialize() needs for `ranges` (a multiple of
    // 8); 0 for no ranges. Valid for any input; initialize() validates.
    static size_t bitmap_bytes_needed(const PhysicalRange* ranges, size_t count);

    PageFrameAllocator() = default;
    PageFrameAllocator(const PageFrameAllocator&) = delete;
    PageFrameAllocator& operator=(const PageFrameAllocator&) = delete;

    // `ranges` must be sorted, disjoint and page-aligned, as
    // sanitize_memory_map() produces; empty ranges are allowed and ignored
    // (carving the bitmap out of a range may leave one), but some range
    // must hold a page. `bitmap_words` (8-byte aligned,
    // bitmap_bytes long) must outlive the allocator. Nothing changes on error.
    // EINVAL for bad ranges or storage, ENOSPC for a too small bitmap or
    // more than max_ranges ranges, EBUSY if already initialized.
    ErrorOr<void> initialize(const PhysicalRange* ranges, size_t count, uint64_t* bitmap_words, size_t bitmap_bytes);

    // The lowest free page. ENOMEM when none is left.
    ErrorOr<uint64_t> allocate_page();
    // The lowest run of `pages` free pages whose physical address is a
    // multiple of alignment_pages * page_size (a power of two).
    // EINVAL for zero pages or a bad alignment, ENOMEM when no run fits.
    ErrorOr<uint64_t> allocate_contiguous(size_t pages, size_t alignment_pages = 1);
    // The lowest free page lying entirely below `limit` (e.g. 1 MiB for the
    // SMP trampoline). ENOMEM when there is none.
    ErrorOr<uint64_t> allocate_page_below(uint64_t limit);

    // Returns pages to the allocator. EINVAL, with no state changed, when
    // `physical` is unaligned, `pages` is 0, any page lies outside the
    // ranges, or any page is already free (a double free).
    ErrorOr<void> free_pages(uint64_t physical, size_t pages);
    // Takes specific free pages out, e.g. for firmware tables discovered
    // late. EINVAL as for free_pages(), EBUSY (no state changed) if any page
    // is already in use.
    ErrorOr<void> reserve(uint64_t physical, size_t pages);

    // Pages inside the ranges, and how many of them are free.
    size_t total_pages() const { return m_total_pages; }
    size_t free_pages() const { return m_free_pages; }
    bool is_initialized() const { return m_initialized; }

private:
    // The bitmap index of a validated span [physical, physical + pages).
    ErrorOr<size_t> index_of_span(uint64_t physical, size_t pages) const;
    bool is_inside_ranges(uint64_t physical, uint64_t end) const;
    uint64_t address_of(size_t index) const { return (m_first_page + index) * page_size; }
    void mark_used(size_t index, size_t pages);

    PhysicalRange m_ranges[max_ranges] {};
    size_t m_range_count { 0 };
    Bitmap m_bitmap;
    uint64_t m_first_page { 0 };
    size_t m_total_pages { 0 };
    size_t m_free_pages { 0 };
    // Every page below this index is in use.
    size_t m_lowest_free_hint { 0 };
    bool m_initialized { false };
};

} // namespace tessera
