// Selftests of the kernel's physical page allocator (kernel/memory/physical.h)
// on the machine's real memory map. The allocator's logic has host tests
// (test/host/page_frame_allocator_test.cpp); these check the kernel wiring:
// the lock, the physmap, the low-memory path the AP trampoline uses, and
// that errors leave the free count alone.
//
// Cases run one at a time and nothing else allocates meanwhile, so free
// counts are compared exactly.

#include <arch/paging.h>
#include <kernel/console/console.h>
#include <kernel/memory/physical.h>
#include <kernel/selftest/selftest.h>

extern "C" char __text_start[];

namespace tessera {

namespace {

constexpr uint64_t one_mib = 0x100000;

uint64_t free_pages() { return physical_memory_stats().free_pages; }

uint64_t* page_words(uint64_t physical) { return static_cast<uint64_t*>(arch::physical_to_virtual(physical)); }

// Fills a page with words derived from `seed`, so two pages with different
// seeds never compare equal word for word.
void fill_page(uint64_t physical, uint64_t seed)
{
    uint64_t* words = page_words(physical);
    for (size_t i = 0; i < page_size / sizeof(uint64_t); ++i)
        words[i] = seed * 0x9e3779b97f4a7c15ull + i;
}

bool page_holds(uint64_t physical, uint64_t seed)
{
    const uint64_t* words = page_words(physical);
    for (size_t i = 0; i < page_size / sizeof(uint64_t); ++i) {
        if (words[i] != seed * 0x9e3779b97f4a7c15ull + i)
            return false;
    }
    return true;
}

void allocate_and_free_single_pages()
{
    constexpr size_t count = 8;
    uint64_t start = free_pages();
    uint64_t pages[count] {};
    for (size_t i = 0; i < count; ++i)
        pages[i] = KMUST(allocate_physical_page());
    KEXPECT_EQ(free_pages(), start - count);
    for (size_t i = 0; i < count; ++i) {
        KEXPECT_EQ(pages[i] % page_size, 0u);
        KEXPECT(pages[i] != 0); // physical page 0 is never handed out
        KEXPECT(pages[i] < physical_memory_stats().highest_address);
        for (size_t j = 0; j < i; ++j)
            KEXPECT(pages[i] != pages[j]);
    }
    for (size_t i = 0; i < count; ++i)
        KEXPECT(!free_physical_page(pages[i]).is_error());
    KEXPECT_EQ(free_pages(), start);
}

// Distinct frames: a pattern written to each page through the physmap is
// still there after every other page was written.
void pages_writable_through_physmap()
{
    constexpr size_t count = 16;
    uint64_t pages[count] {};
    for (size_t i = 0; i < count; ++i)
        pages[i] = KMUST(allocate_physical_page());
    for (size_t i = 0; i < count; ++i)
        fill_page(pages[i], i + 1);
    for (size_t i = 0; i < count; ++i) {
        KEXPECT(page_holds(pages[i], i + 1));
        KEXPECT_EQ(KMUST(arch::translate(reinterpret_cast<uint64_t>(page_words(pages[i])))), pages[i]);
    }
    for (size_t i = 0; i < count; ++i)
        KEXPECT(!free_physical_page(pages[i]).is_error());
}

// A contiguous run is page-aligned, every page of it is usable memory, and
// it does not overlap single pages allocated around it.
void contiguous_allocation()
{
    constexpr size_t run_pages = 16;
    uint64_t start = free_pages();
    uint64_t before = KMUST(allocate_physical_page());
    uint64_t run = KMUST(allocate_physical_pages(run_pages));
    uint64_t after = KMUST(allocate_physical_page());
    KEXPECT_EQ(run % page_size, 0u);
    KEXPECT_EQ(free_pages(), start - run_pages - 2);
    for (uint64_t single : { before, after })
        KEXPECT(single < run || single >= run + run_pages * page_size);
    for (size_t i = 0; i < run_pages; ++i)
        fill_page(run + i * page_size, 100 + i);
    fill_page(before, 1);
    fill_page(after, 2);
    for (size_t i = 0; i < run_pages; ++i)
        KEXPECT(page_holds(run + i * page_size, 100 + i));
    KEXPECT(page_holds(before, 1));
    KEXPECT(page_holds(after, 2));

    KEXPECT(allocate_physical_pages(0).is_error());
    KEXPECT(!free_physical_pages(run, run_pages).is_error());
    KEXPECT(!free_physical_page(before).is_error());
    KEXPECT(!free_physical_page(after).is_error());
    KEXPECT_EQ(free_pages(), start);
}

// The AP trampoline needs a page below 1 MiB. Allocation is lowest-first, so
// such a page is available exactly when the lowest free page lies below
// 1 MiB; both outcomes are checked against that.
void allocate_page_below_1mib()
{
    uint64_t start = free_pages();
    auto low = allocate_physical_page_below(one_mib);
    if (low.is_error()) {
        KEXPECT_EQ(low.error().code(), Errno::NOMEM);
        uint64_t lowest = KMUST(allocate_physical_page());
        console_print(
            "    # no free page below 1 MiB; the lowest free page is %#llx\n", static_cast<unsigned long long>(lowest));
        KEXPECT(lowest >= one_mib);
        KEXPECT(!free_physical_page(lowest).is_error());
    } else {
        uint64_t page = low.value();
        KEXPECT(page != 0);
        KEXPECT_EQ(page % page_size, 0u);
        KEXPECT(page + page_size <= one_mib);
        fill_page(page, 7);
        KEXPECT(page_holds(page, 7));
        KEXPECT(!free_physical_page(page).is_error());
    }

    // Deterministic whatever low memory holds: a page just freed is free, so
    // a limit just above it must succeed, with that page or a lower one.
    uint64_t page = KMUST(allocate_physical_page());
    KEXPECT(!free_physical_page(page).is_error());
    uint64_t below = KMUST(allocate_physical_page_below(page + page_size));
    KEXPECT(below <= page);
    KEXPECT(!free_physical_page(below).is_error());

    // Page 0 is never usable, so nothing lies entirely below 4 KiB.
    KEXPECT(allocate_physical_page_below(page_size).is_error());
    KEXPECT(allocate_physical_page_below(0).is_error());
    KEXPECT_EQ(free_pages(), start);
}

// A mixed workload of singles and runs, freed in a different order, leaves
// the free count where it started.
void free_count_returns_to_start()
{
    auto stats = physical_memory_stats();
    KEXPECT(stats.free_pages <= stats.total_pages);
    KEXPECT(stats.total_pages > 0);
    constexpr size_t rounds = 6;
    uint64_t singles[rounds] {};
    uint64_t runs[rounds] {};
    for (size_t i = 0; i < rounds; ++i) {
        singles[i] = KMUST(allocate_physical_page());
        runs[i] = KMUST(allocate_physical_pages(i + 1));
    }
    KEXPECT_EQ(free_pages(), stats.free_pages - rounds - rounds * (rounds + 1) / 2);
    for (size_t i = 0; i < rounds; i += 2)
        KEXPECT(!free_physical_pages(runs[i], i + 1).is_error());
    for (size_t i = rounds; i-- > 0;)
        KEXPECT(!free_physical_page(singles[i]).is_error());
    for (size_t i = 1; i < rounds; i += 2)
        KEXPECT(!free_physical_pages(runs[i], i + 1).is_error());
    KEXPECT_EQ(free_pages(), stats.free_pages);
    KEXPECT_EQ(physical_memory_stats().total_pages, stats.total_pages);
}

// Bad frees fail with EINVAL and change nothing.
void double_free_rejected()
{
    uint64_t start = free_pages();
    uint64_t page = KMUST(allocate_physical_page());
    KEXPECT(!free_physical_page(page).is_error());
    auto second = free_physical_page(page);
    KEXPECT(second.is_error());
    if (second.is_error())
        KEXPECT_EQ(second.error().code(), Errno::INVAL);
    KEXPECT_EQ(free_pages(), start);

    // A run of which one page is already free is rejected as a whole: the
    // page still in use stays in use and can be freed on its own.
    uint64_t run = KMUST(allocate_physical_pages(2));
    KEXPECT(!free_physical_page(run).is_error());
    KEXPECT(free_physical_pages(run, 2).is_error());
    KEXPECT_EQ(free_pages(), start - 1);
    KEXPECT(!free_physical_page(run + page_size).is_error());
    KEXPECT_EQ(free_pages(), start);

    // Unaligned, and outside usable RAM (the kernel image is reserved).
    uint64_t held = KMUST(allocate_physical_page());
    KEXPECT(free_physical_page(held + 8).is_error());
    KEXPECT(free_physical_page(arch::virtual_to_physical(__text_start)).is_error());
    KEXPECT(!free_physical_page(held).is_error());
    KEXPECT_EQ(free_pages(), start);
}

} // namespace

SELFTEST_SUITE(memory_page_allocator, CONFIG_PAGE_ALLOCATOR_SELFTEST, SELFTEST_CASE(allocate_and_free_single_pages),
    SELFTEST_CASE(pages_writable_through_physmap), SELFTEST_CASE(contiguous_allocation),
    SELFTEST_CASE(allocate_page_below_1mib), SELFTEST_CASE(free_count_returns_to_start),
    SELFTEST_CASE(double_free_rejected));

} // namespace tessera
