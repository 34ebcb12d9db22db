#include <kernel/lib/checked.h>
#include <kernel/memory/lib/page_frame_allocator.h>

namespace tessera {

size_t PageFrameAllocator::bitmap_bytes_needed(const PhysicalRange* ranges, size_t count)
{
    if (ranges == nullptr || count == 0)
        return 0;
    uint64_t lowest = kstd::numeric_limits<uint64_t>::max();
    uint64_t highest = 0;
    for (size_t i = 0; i < count; ++i) {
        uint64_t end;
        if (__builtin_add_overflow(ranges[i].base, ranges[i].length, &end))
            end = kstd::numeric_limits<uint64_t>::max();
        if (ranges[i].base < lowest)
            lowest = ranges[i].base;
        if (end > highest)
            highest = end;
    }
    if (highest <= lowest)
        return 0;
    uint64_t first_page = lowest / page_size;
    uint64_t end_page = highest / page_size + (highest % page_size != 0 ? 1 : 0);
    // At most 2^52 pages, so this cannot overflow.
    return Bitmap::words_needed(end_page - first_page) * sizeof(uint64_t);
}

ErrorOr<void> PageFrameAllocator::initialize(
    const PhysicalRange* ranges, size_t count, uint64_t* bitmap_words, size_t bitmap_bytes)
{
    if (m_initialized)
        return Error(Errno::BUSY, "page frame allocator already initialized");
    if (ranges == nullptr || count == 0)
        return Error(Errno::INVAL, "no physical ranges");
    if (count > max_ranges)
        return Error(Errno::NOSPC, "too many physical ranges");
    size_t pages = 0;
    for (size_t i = 0; i < count; ++i) {
        const auto& range = ranges[i];
        uint64_t end;
        if (range.base % page_size != 0 || range.length % page_size != 0
            || __builtin_add_overflow(range.base, range.length, &end))
            return Error(Errno::INVAL, "physical range not page-aligned or overflowing");
        if (i > 0 && ranges[i - 1].end() > range.base)
            return Error(Errno::INVAL, "physical ranges unsorted or overlapping");
        pages += range.length / page_size;
    }
    if (pages == 0)
        return Error(Errno::INVAL, "physical ranges hold no page");
    if (bitmap_words == nullptr || reinterpret_cast<uintptr_t>(bitmap_words) % alignof(uint64_t) != 0)
        return Error(Errno::INVAL, "bad page bitmap storage");
    if (bitmap_bytes < bitmap_bytes_needed(ranges, count))
        return Error(Errno::NOSPC, "page bitmap storage too small");

    // Validated; nothing below can fail.
    m_first_page = ranges[0].base / page_size;
    size_t span_pages = (ranges[count - 1].end() - ranges[0].base) / page_size;
    m_bitmap = Bitmap(bitmap_words, span_pages);
    m_bitmap.set_range(0, span_pages);
    for (size_t i = 0; i < count; ++i) {
        m_ranges[i] = ranges[i];
        m_bitmap.clear_range(ranges[i].base / page_size - m_first_page, ranges[i].length / page_size);
    }
    m_total_pages = pages;
    m_range_count = count;
    m_free_pages = m_total_pages;
    m_lowest_free_hint = 0;
    m_initialized = true;
    return {};
}

void PageFrameAllocator::mark_used(size_t index, size_t pages)
{
    m_bitmap.set_range(index, pages);
    VERIFY(m_free_pages >= pages);
    m_free_pages -= pages;
    // Everything below the hint was used already; if the run started there,
    // everything below its end is used now.
    if (index == m_lowest_free_hint)
        m_lowest_free_hint = index + pages;
}

ErrorOr<uint64_t> PageFrameAllocator::allocate_page()
{
    if (m_free_pages == 0)
        return Error(Errno::NOMEM, "out of physical pages");
    size_t index = m_bitmap.find_first_clear(m_lowest_free_hint);
    // The free count says a page exists at or above the hint.
    VERIFY(index != Bitmap::npos);
    mark_used(index, 1);
    return address_of(index);
}

ErrorOr<uint64_t> PageFrameAllocator::allocate_contiguous(size_t pages, size_t alignment_pages)
{
    if (pages == 0 || !is_power_of_two(alignment_pages))
        return Error(Errno::INVAL, "bad contiguous allocation request");
    if (pages > m_free_pages)
        return Error(Errno::NOMEM, "not enough free physical pages");
    // Alignment is of the physical frame number, not of the bitmap index.
    size_t index = m_bitmap.find_clear_run(pages, alignment_pages, m_lowest_free_hint, m_first_page);
    if (index == Bitmap::npos)
        return Error(Errno::NOMEM, "no contiguous physical run fits");
    mark_used(index, pages);
    return address_of(index);
}

ErrorOr<uint64_t> PageFrameAllocator::allocate_page_below(uint64_t limit)
{
    if (m_free_pages == 0)
        return Error(Errno::NOMEM, "out of physical pages");
    // Allocation is lowest-first, so the lowest free page is the only candidate.
    size_t index = m_bitmap.find_first_clear(m_lowest_free_hint);
    VERIFY(index != Bitmap::npos);
    if (limit < page_size || address_of(index) > limit - page_size)
        return Error(Errno::NOMEM, "no free physical page below limit");
    mark_used(index, 1);
    return address_of(index);
}

bool PageFrameAllocator::is_inside_ranges(uint64_t physical, uint64_t end) const
{
    // Ranges are sorted and may touch, so walk them extending a covered prefix.
    uint64_t covered = physical;
    for (size_t i = 0; i < m_range_count; ++i) {
        const auto& range = m_ranges[i];
        if (range.end() <= covered)
            continue;
        if (range.base > covered)
            return false;
        covered = range.end();
        if (covered >= end)
            return true;
    }
    return false;
}

ErrorOr<size_t> PageFrameAllocator::index_of_span(uint64_t physical, size_t pages) const
{
    if (pages == 0 || physical % page_size != 0)
        return Error(Errno::INVAL, "unaligned or empty physical span");
    uint64_t bytes;
    uint64_t end;
    if (__builtin_mul_overflow(static_cast<uint64_t>(pages), page_size, &bytes)
        || __builtin_add_overflow(physical, bytes, &end))
        return Error(Errno::INVAL, "physical span overflows");
    if (!is_inside_ranges(physical, end))
        return Error(Errno::INVAL, "physical span outside usable memory");
    return static_cast<size_t>(physical / page_size - m_first_page);
}

ErrorOr<void> PageFrameAllocator::free_pages(uint64_t physical, size_t pages)
{
    size_t index = TRY(index_of_span(physical, pages));
    if (!m_bitmap.is_range_set(index, pages))
        return Error(Errno::INVAL, "double free of a physical page");
    m_bitmap.clear_range(index, pages);
    m_free_pages += pages;
    if (index < m_lowest_free_hint)
        m_lowest_free_hint = index;
    return {};
}

ErrorOr<void> PageFrameAllocator::reserve(uint64_t physical, size_t pages)
{
    size_t index = TRY(index_of_span(physical, pages));
    if (!m_bitmap.is_range_clear(index, pages))
        return Error(Errno::BUSY, "physical page already in use");
    mark_used(index, pages);
    return {};
}

} // namespace tessera
