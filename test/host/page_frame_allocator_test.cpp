#include <kernel/memory/lib/page_frame_allocator.h>

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <vector>

using namespace tessera;

namespace {

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = 1024 * KiB;
constexpr uint64_t top = ~0ull;

// No global constructor: the kernel can keep one in .bss.
constinit PageFrameAllocator global_allocator;

PhysicalRange pages_at(uint64_t base, uint64_t pages) { return { base, pages * page_size }; }

// An allocator plus bitmap storage sized by bitmap_bytes_needed().
struct Frames {
    explicit Frames(std::vector<PhysicalRange> ranges_in)
        : ranges(std::move(ranges_in))
        , storage(PageFrameAllocator::bitmap_bytes_needed(ranges.data(), ranges.size()) / 8 + 1, 0xa5a5a5a5a5a5a5a5)
    {
        MUST(allocator->initialize(ranges.data(), ranges.size(), storage.data(), storage.size() * 8));
    }
    PageFrameAllocator& operator*() { return *allocator; }
    PageFrameAllocator* operator->() { return allocator.get(); }

    std::vector<PhysicalRange> ranges;
    std::vector<uint64_t> storage;
    // On the heap: the allocator holds a copy of up to max_ranges ranges.
    std::unique_ptr<PageFrameAllocator> allocator { std::make_unique<PageFrameAllocator>() };
};

Errno error_of(ErrorOr<void>&& result) { return result.is_error() ? result.error().code() : Errno {}; }
Errno error_of(ErrorOr<uint64_t>&& result) { return result.is_error() ? result.error().code() : Errno {}; }

} // namespace

TEST(PageFrameAllocator, GlobalIsConstantInitialized)
{
    EXPECT_FALSE(global_allocator.is_initialized());
    EXPECT_EQ(global_allocator.total_pages(), 0u);
}

TEST(PageFrameAllocator, BitmapBytesNeeded)
{
    EXPECT_EQ(PageFrameAllocator::bitmap_bytes_needed(nullptr, 0), 0u);
    EXPECT_EQ(PageFrameAllocator::bitmap_bytes_needed(nullptr, 3), 0u);
    PhysicalRange one[] = { pages_at(MiB, 1) };
    EXPECT_EQ(PageFrameAllocator::bitmap_bytes_needed(one, 1), 8u);
    PhysicalRange sixty_four[] = { pages_at(MiB, 64) };
    EXPECT_EQ(PageFrameAllocator::bitmap_bytes_needed(sixty_four, 1), 8u);
    PhysicalRange sixty_five[] = { pages_at(MiB, 65) };
    EXPECT_EQ(PageFrameAllocator::bitmap_bytes_needed(sixty_five, 1), 16u);
    // From the lowest base to the highest end, holes included, in any order.
    PhysicalRange holes[] = { pages_at(64 * MiB, 1), pages_at(0x1000, 1) };
    EXPECT_EQ(PageFrameAllocator::bitmap_bytes_needed(holes, 2), (64 * MiB / page_size) / 8);
    // 4 GiB of RAM from page 1: 2^20 - 1 bits.
    PhysicalRange four_gib[] = { { 0x1000, 4096 * MiB - 0x1000 } };
    EXPECT_EQ(PageFrameAllocator::bitmap_bytes_needed(four_gib, 1), 128 * KiB);
    // Unvalidated input still gives a sane answer.
    PhysicalRange unaligned[] = { { 0x1800, 0x1000 } };
    EXPECT_EQ(PageFrameAllocator::bitmap_bytes_needed(unaligned, 1), 8u);
    PhysicalRange empty[] = { { MiB, 0 } };
    EXPECT_EQ(PageFrameAllocator::bitmap_bytes_needed(empty, 1), 0u);
    PhysicalRange overflowing[] = { { top - 0xfff, 0x10000 } };
    EXPECT_EQ(PageFrameAllocator::bitmap_bytes_needed(overflowing, 1), 8u);
}

TEST(PageFrameAllocator, InitializeRejectsBadInput)
{
    uint64_t storage[64] = {};
    auto try_init = [&](std::vector<PhysicalRange> ranges, uint64_t* words = nullptr, size_t bytes = sizeof(storage)) {
        PageFrameAllocator allocator;
        auto result = allocator.initialize(ranges.data(), ranges.size(), words ? words : storage, bytes);
        Errno code = result.is_error() ? result.error().code() : Errno {};
        EXPECT_EQ(allocator.is_initialized(), !result.is_error());
        if (result.is_error()) {
            EXPECT_EQ(allocator.total_pages(), 0u);
        }
        return code;
    };
    EXPECT_EQ(try_init({}), Errno::INVAL);
    EXPECT_EQ(try_init({ { MiB + 1, page_size } }), Errno::INVAL);
    EXPECT_EQ(try_init({ { MiB, page_size + 1 } }), Errno::INVAL);
    EXPECT_EQ(try_init({ { MiB, 0 } }), Errno::INVAL); // no page at all
    EXPECT_EQ(try_init({ { MiB, 0 }, { 2 * MiB, 0 } }), Errno::INVAL);
    EXPECT_EQ(try_init({ { top - 0xfff, 2 * page_size } }), Errno::INVAL);
    EXPECT_EQ(try_init({ pages_at(2 * MiB, 1), pages_at(MiB, 1) }), Errno::INVAL); // unsorted
    EXPECT_EQ(try_init({ pages_at(MiB, 2), pages_at(MiB + page_size, 1) }), Errno::INVAL); // overlapping
    EXPECT_EQ(try_init({ pages_at(MiB, 1), pages_at(MiB, 1) }), Errno::INVAL); // duplicate
    uint64_t* misaligned = reinterpret_cast<uint64_t*>(reinterpret_cast<char*>(storage) + 4);
    EXPECT_EQ(try_init({ pages_at(MiB, 1) }, misaligned, 64), Errno::INVAL);
    // 4097 pages need 65 words; 64 are given.
    EXPECT_EQ(try_init({ pages_at(MiB, 4097) }), Errno::NOSPC);
    EXPECT_EQ(try_init({ pages_at(MiB, 4096) }), Errno {});
    EXPECT_EQ(try_init({ pages_at(MiB, 1) }, storage, 0), Errno::NOSPC);
    std::vector<PhysicalRange> too_many;
    for (size_t i = 0; i <= PageFrameAllocator::max_ranges; ++i)
        too_many.push_back(pages_at(MiB + 2 * i * page_size, 1));
    EXPECT_EQ(try_init(too_many), Errno::NOSPC);
    too_many.pop_back();
    EXPECT_EQ(try_init(too_many), Errno {});

    PageFrameAllocator allocator;
    PhysicalRange range = pages_at(MiB, 1);
    EXPECT_EQ(error_of(allocator.initialize(nullptr, 1, storage, 8)), Errno::INVAL);
    EXPECT_EQ(error_of(allocator.initialize(&range, 1, nullptr, 8)), Errno::INVAL);
    EXPECT_FALSE(allocator.is_initialized());
    MUST(allocator.initialize(&range, 1, storage, 8));
    EXPECT_EQ(error_of(allocator.initialize(&range, 1, storage, 8)), Errno::BUSY);
    EXPECT_EQ(allocator.total_pages(), 1u);
}

TEST(PageFrameAllocator, EmptyRangesAreIgnored)
{
    // As left behind when the bitmap is carved out of a whole range.
    Frames frames({ { MiB, 0 }, pages_at(2 * MiB, 2), { 3 * MiB, 0 }, pages_at(4 * MiB, 1), { 5 * MiB, 0 } });
    EXPECT_EQ(frames->total_pages(), 3u);
    EXPECT_EQ(MUST(frames->allocate_page()), 2 * MiB);
    EXPECT_EQ(MUST(frames->allocate_page()), 2 * MiB + page_size);
    EXPECT_EQ(MUST(frames->allocate_page()), 4 * MiB);
    EXPECT_EQ(error_of(frames->allocate_page()), Errno::NOMEM);
    EXPECT_EQ(error_of(frames->free_pages(MiB, 1)), Errno::INVAL);
    EXPECT_EQ(error_of(frames->free_pages(3 * MiB, 1)), Errno::INVAL);
    MUST(frames->free_pages(2 * MiB, 2));
    MUST(frames->free_pages(4 * MiB, 1));
}

TEST(PageFrameAllocator, UninitializedHasNothing)
{
    PageFrameAllocator allocator;
    EXPECT_EQ(error_of(allocator.allocate_page()), Errno::NOMEM);
    EXPECT_EQ(error_of(allocator.allocate_contiguous(1, 1)), Errno::NOMEM);
    EXPECT_EQ(error_of(allocator.allocate_page_below(MiB)), Errno::NOMEM);
    EXPECT_EQ(error_of(allocator.free_pages(MiB, 1)), Errno::INVAL);
    EXPECT_EQ(error_of(allocator.reserve(MiB, 1)), Errno::INVAL);
}

TEST(PageFrameAllocator, AllocatesLowestFirstUntilExhausted)
{
    Frames frames({ pages_at(MiB, 3), pages_at(4 * MiB, 2) });
    EXPECT_EQ(frames->total_pages(), 5u);
    EXPECT_EQ(frames->free_pages(), 5u);
    std::vector<uint64_t> expected { MiB, MiB + page_size, MiB + 2 * page_size, 4 * MiB, 4 * MiB + page_size };
    for (uint64_t address : expected)
        EXPECT_EQ(MUST(frames->allocate_page()), address);
    EXPECT_EQ(frames->free_pages(), 0u);
    EXPECT_EQ(error_of(frames->allocate_page()), Errno::NOMEM);
    EXPECT_EQ(error_of(frames->allocate_contiguous(1, 1)), Errno::NOMEM);
    EXPECT_EQ(frames->free_pages(), 0u);

    // Freed pages come back lowest first, whatever the order they were freed in.
    MUST(frames->free_pages(4 * MiB + page_size, 1));
    MUST(frames->free_pages(MiB + page_size, 1));
    EXPECT_EQ(frames->free_pages(), 2u);
    EXPECT_EQ(MUST(frames->allocate_page()), MiB + page_size);
    EXPECT_EQ(MUST(frames->allocate_page()), 4 * MiB + page_size);
    EXPECT_EQ(error_of(frames->allocate_page()), Errno::NOMEM);
    for (uint64_t address : expected)
        MUST(frames->free_pages(address, 1));
    EXPECT_EQ(frames->free_pages(), 5u);
}

TEST(PageFrameAllocator, HolesBetweenRangesStayUsed)
{
    Frames frames({ pages_at(MiB, 1), pages_at(MiB + 3 * page_size, 1) });
    EXPECT_EQ(MUST(frames->allocate_page()), MiB);
    EXPECT_EQ(MUST(frames->allocate_page()), MiB + 3 * page_size);
    EXPECT_EQ(error_of(frames->allocate_page()), Errno::NOMEM);
    // Hole pages can neither be freed nor reserved.
    EXPECT_EQ(error_of(frames->free_pages(MiB + page_size, 1)), Errno::INVAL);
    EXPECT_EQ(error_of(frames->reserve(MiB + page_size, 1)), Errno::INVAL);
    EXPECT_EQ(frames->free_pages(), 0u);
}

TEST(PageFrameAllocator, FreeRejectsBadSpansWithoutChangingState)
{
    Frames frames({ pages_at(MiB, 4), pages_at(2 * MiB, 4) });
    uint64_t first = MUST(frames->allocate_contiguous(4, 1));
    EXPECT_EQ(first, MiB);
    EXPECT_EQ(frames->free_pages(), 4u);
    EXPECT_EQ(error_of(frames->free_pages(MiB + 1, 1)), Errno::INVAL); // unaligned
    EXPECT_EQ(error_of(frames->free_pages(MiB, 0)), Errno::INVAL); // empty
    EXPECT_EQ(error_of(frames->free_pages(MiB - page_size, 1)), Errno::INVAL); // below the ranges
    EXPECT_EQ(error_of(frames->free_pages(MiB - page_size, 2)), Errno::INVAL); // starts below
    EXPECT_EQ(error_of(frames->free_pages(MiB, 5)), Errno::INVAL); // runs into the hole
    EXPECT_EQ(error_of(frames->free_pages(3 * MiB, 1)), Errno::INVAL); // above the ranges
    EXPECT_EQ(error_of(frames->free_pages(0, 1)), Errno::INVAL);
    EXPECT_EQ(error_of(frames->free_pages(top - 0xfff, 1)), Errno::INVAL);
    EXPECT_EQ(error_of(frames->free_pages(MiB, SIZE_MAX)), Errno::INVAL); // size overflows
    EXPECT_EQ(error_of(frames->free_pages(MiB, SIZE_MAX / page_size)), Errno::INVAL); // end overflows
    EXPECT_EQ(frames->free_pages(), 4u);
    MUST(frames->free_pages(MiB, 4));
    EXPECT_EQ(frames->free_pages(), 8u);
}

TEST(PageFrameAllocator, DoubleFreeIsRejected)
{
    Frames frames({ pages_at(MiB, 4) });
    uint64_t a = MUST(frames->allocate_page());
    uint64_t b = MUST(frames->allocate_page());
    MUST(frames->free_pages(a, 1));
    EXPECT_EQ(error_of(frames->free_pages(a, 1)), Errno::INVAL);
    EXPECT_EQ(frames->free_pages(), 3u);
    // A span that is partly free is rejected whole: b stays allocated.
    EXPECT_EQ(error_of(frames->free_pages(a, 2)), Errno::INVAL);
    EXPECT_EQ(frames->free_pages(), 3u);
    EXPECT_EQ(error_of(frames->free_pages(b, 2)), Errno::INVAL);
    EXPECT_EQ(frames->free_pages(), 3u);
    // Never-allocated pages cannot be freed either.
    EXPECT_EQ(error_of(frames->free_pages(MiB + 3 * page_size, 1)), Errno::INVAL);
    // State is intact: exactly a, then the untouched pages, are handed out.
    EXPECT_EQ(MUST(frames->allocate_page()), a);
    EXPECT_EQ(MUST(frames->allocate_page()), MiB + 2 * page_size);
    EXPECT_EQ(MUST(frames->allocate_page()), MiB + 3 * page_size);
    EXPECT_EQ(error_of(frames->allocate_page()), Errno::NOMEM);
    MUST(frames->free_pages(MiB, 4));
}

TEST(PageFrameAllocator, AdjacentRangesActAsOne)
{
    Frames frames({ pages_at(MiB, 2), pages_at(MiB + 2 * page_size, 2) });
    EXPECT_EQ(MUST(frames->allocate_contiguous(4, 1)), MiB);
    MUST(frames->free_pages(MiB + page_size, 2));
    MUST(frames->reserve(MiB + page_size, 2));
    MUST(frames->free_pages(MiB, 4));
}

TEST(PageFrameAllocator, ContiguousRejectsBadRequests)
{
    Frames frames({ pages_at(MiB, 8) });
    EXPECT_EQ(error_of(frames->allocate_contiguous(0, 1)), Errno::INVAL);
    EXPECT_EQ(error_of(frames->allocate_contiguous(1, 0)), Errno::INVAL);
    EXPECT_EQ(error_of(frames->allocate_contiguous(1, 3)), Errno::INVAL);
    EXPECT_EQ(error_of(frames->allocate_contiguous(9, 1)), Errno::NOMEM);
    EXPECT_EQ(error_of(frames->allocate_contiguous(SIZE_MAX, 1)), Errno::NOMEM);
    EXPECT_EQ(error_of(frames->allocate_contiguous(1, size_t(1) << 63)), Errno::NOMEM);
    EXPECT_EQ(frames->free_pages(), 8u);
    EXPECT_EQ(MUST(frames->allocate_contiguous(8, 1)), MiB);
}

TEST(PageFrameAllocator, ContiguousAlignsPhysicalAddresses)
{
    // Bitmap index 0 is page 3, so aligning bitmap indexes would be wrong.
    Frames frames({ pages_at(3 * page_size, 61) });
    EXPECT_EQ(MUST(frames->allocate_contiguous(1, 4)), 4 * page_size);
    EXPECT_EQ(MUST(frames->allocate_contiguous(2, 8)), 8 * page_size);
    EXPECT_EQ(MUST(frames->allocate_contiguous(1, 1)), 3 * page_size);
    EXPECT_EQ(MUST(frames->allocate_contiguous(3, 1)), 5 * page_size);
    EXPECT_EQ(MUST(frames->allocate_contiguous(16, 16)), 16 * page_size);
    EXPECT_EQ(MUST(frames->allocate_contiguous(1, 32)), 32 * page_size);
    EXPECT_EQ(error_of(frames->allocate_contiguous(1, 64)), Errno::NOMEM);
    // 2 MiB-aligned in a range that starts just below a 2 MiB boundary.
    Frames large({ { 2 * MiB - 3 * page_size, 4 * MiB } });
    uint64_t huge = MUST(large->allocate_contiguous(512, 512));
    EXPECT_EQ(huge, 2 * MiB);
    EXPECT_EQ(MUST(large->allocate_page()), 2 * MiB - 3 * page_size);
    EXPECT_EQ(error_of(large->allocate_contiguous(512, 512)), Errno::NOMEM);
    // Left: two pages below 2 MiB and 509 from 4 MiB to the end.
    EXPECT_EQ(error_of(large->allocate_contiguous(510, 1)), Errno::NOMEM);
    EXPECT_EQ(MUST(large->allocate_contiguous(509, 1)), 4 * MiB);
    EXPECT_EQ(MUST(large->allocate_contiguous(2, 2)), 2 * MiB - 2 * page_size);
    EXPECT_EQ(large->free_pages(), 0u);
}

TEST(PageFrameAllocator, Fragmentation)
{
    Frames frames({ pages_at(MiB, 64) });
    std::vector<uint64_t> pages;
    for (int i = 0; i < 64; ++i)
        pages.push_back(MUST(frames->allocate_page()));
    for (int i = 0; i < 64; i += 2)
        MUST(frames->free_pages(pages[i], 1));
    EXPECT_EQ(frames->free_pages(), 32u);
    // Half the memory is free, yet no two free pages touch.
    EXPECT_EQ(error_of(frames->allocate_contiguous(2, 1)), Errno::NOMEM);
    EXPECT_EQ(frames->free_pages(), 32u);
    // Freeing 41 and 43 joins 40..44 into a run of 5.
    MUST(frames->free_pages(pages[41], 1));
    MUST(frames->free_pages(pages[43], 1));
    EXPECT_EQ(MUST(frames->allocate_contiguous(3, 1)), pages[40]);
    EXPECT_EQ(error_of(frames->allocate_contiguous(3, 1)), Errno::NOMEM);
    EXPECT_EQ(MUST(frames->allocate_contiguous(2, 1)), pages[43]);
    // Single pages still fill the remaining holes lowest first.
    EXPECT_EQ(MUST(frames->allocate_page()), pages[0]);
    EXPECT_EQ(MUST(frames->allocate_page()), pages[2]);
}

TEST(PageFrameAllocator, AllocateBelowLimit)
{
    // A SeaBIOS-like layout: low memory below 640 KiB, the rest above 1 MiB.
    Frames frames({ { 0x1000, 0x9e000 }, { MiB, 15 * MiB } });
    EXPECT_EQ(MUST(frames->allocate_page_below(MiB)), 0x1000u);
    EXPECT_EQ(error_of(frames->allocate_page_below(0)), Errno::NOMEM);
    EXPECT_EQ(error_of(frames->allocate_page_below(page_size)), Errno::NOMEM);
    // The page must end at or below the limit.
    EXPECT_EQ(error_of(frames->allocate_page_below(0x2fff)), Errno::NOMEM);
    EXPECT_EQ(MUST(frames->allocate_page_below(0x3000)), 0x2000u);
    EXPECT_EQ(MUST(frames->allocate_page_below(top)), 0x3000u);
    // Use up low memory; ordinary allocations still succeed above it.
    size_t low_left = 0x9e000 / page_size - 3;
    MUST(frames->reserve(0x4000, low_left));
    size_t free_before = frames->free_pages();
    EXPECT_EQ(error_of(frames->allocate_page_below(MiB)), Errno::NOMEM);
    EXPECT_EQ(frames->free_pages(), free_before);
    EXPECT_EQ(MUST(frames->allocate_page()), MiB);
    MUST(frames->free_pages(0x9e000, 1));
    EXPECT_EQ(MUST(frames->allocate_page_below(MiB)), 0x9e000u);
}

TEST(PageFrameAllocator, Reserve)
{
    Frames frames({ pages_at(MiB, 8) });
    MUST(frames->reserve(MiB + 2 * page_size, 2));
    EXPECT_EQ(frames->free_pages(), 6u);
    EXPECT_EQ(error_of(frames->reserve(MiB + 2 * page_size, 1)), Errno::BUSY);
    // Partly used: rejected whole, the free part stays free.
    EXPECT_EQ(error_of(frames->reserve(MiB + page_size, 2)), Errno::BUSY);
    EXPECT_EQ(frames->free_pages(), 6u);
    EXPECT_EQ(error_of(frames->reserve(MiB + 1, 1)), Errno::INVAL);
    EXPECT_EQ(error_of(frames->reserve(MiB, 0)), Errno::INVAL);
    EXPECT_EQ(error_of(frames->reserve(MiB, 9)), Errno::INVAL);
    EXPECT_EQ(error_of(frames->reserve(MiB - page_size, 1)), Errno::INVAL);
    EXPECT_EQ(frames->free_pages(), 6u);
    // Allocation walks around the reserved pages.
    EXPECT_EQ(MUST(frames->allocate_page()), MiB);
    EXPECT_EQ(MUST(frames->allocate_page()), MiB + page_size);
    EXPECT_EQ(MUST(frames->allocate_page()), MiB + 4 * page_size);
    EXPECT_EQ(error_of(frames->allocate_contiguous(4, 1)), Errno::NOMEM);
    EXPECT_EQ(MUST(frames->allocate_contiguous(3, 1)), MiB + 5 * page_size);
    // Reserved pages are released with free_pages().
    MUST(frames->free_pages(MiB + 2 * page_size, 2));
    EXPECT_EQ(frames->free_pages(), 2u);
}

TEST(PageFrameAllocator, HighAddresses)
{
    // The highest possible page-aligned range: ends at 2^64 - 4096.
    Frames frames({ { top - 0xfff - 16 * page_size, 16 * page_size } });
    uint64_t last = 0;
    for (int i = 0; i < 16; ++i)
        last = MUST(frames->allocate_page());
    EXPECT_EQ(last, top - 0xfff - page_size);
    EXPECT_EQ(error_of(frames->allocate_page()), Errno::NOMEM);
    MUST(frames->free_pages(last, 1));
    EXPECT_EQ(error_of(frames->free_pages(last, 2)), Errno::INVAL);
    EXPECT_EQ(error_of(frames->free_pages(top - 0xfff, 1)), Errno::INVAL);
}

// Random operations against a model: the set of free pages, where
// allocation must return the lowest page (or run) that fits.
TEST(PageFrameAllocator, MatchesModelUnderRandomOperations)
{
    std::vector<PhysicalRange> ranges { pages_at(page_size, 100), pages_at(200 * page_size, 60),
        pages_at(260 * page_size, 40), pages_at(700 * page_size, 200) };
    Frames frames(ranges);
    std::set<uint64_t> free_pages;
    for (auto& range : ranges) {
        for (uint64_t a = range.base; a < range.end(); a += page_size)
            free_pages.insert(a);
    }
    std::map<uint64_t, size_t> allocated; // base -> pages
    std::mt19937_64 random(7);

    auto model_run = [&](size_t pages, size_t alignment) -> std::optional<uint64_t> {
        for (uint64_t start : free_pages) {
            if ((start / page_size) % alignment != 0)
                continue;
            bool fits = true;
            for (size_t i = 0; i < pages && fits; ++i)
                fits = free_pages.count(start + i * page_size) != 0;
            if (fits)
                return start;
        }
        return std::nullopt;
    };
    auto take = [&](uint64_t base, size_t pages) {
        for (size_t i = 0; i < pages; ++i)
            free_pages.erase(base + i * page_size);
        allocated[base] = pages;
    };

    for (int step = 0; step < 4000; ++step) {
        unsigned op = random() % 10;
        if (op < 3) {
            auto expected = model_run(1, 1);
            auto result = frames->allocate_page();
            ASSERT_EQ(result.is_error(), !expected.has_value());
            if (expected) {
                ASSERT_EQ(result.value(), *expected);
                take(*expected, 1);
            }
        } else if (op < 5) {
            size_t pages = 1 + random() % 12;
            size_t alignment = size_t(1) << (random() % 5);
            auto expected = model_run(pages, alignment);
            auto result = frames->allocate_contiguous(pages, alignment);
            ASSERT_EQ(result.is_error(), !expected.has_value()) << pages << " " << alignment;
            if (expected) {
                ASSERT_EQ(result.value(), *expected);
                take(*expected, pages);
            }
        } else if (op < 6) {
            auto expected = model_run(1, 1);
            bool fits = expected && *expected + page_size <= 150 * page_size;
            auto result = frames->allocate_page_below(150 * page_size);
            ASSERT_EQ(result.is_error(), !fits);
            if (fits) {
                ASSERT_EQ(result.value(), *expected);
                take(*expected, 1);
            }
        } else if (op < 9 && !allocated.empty()) {
            auto it = allocated.begin();
            std::advance(it, random() % allocated.size());
            auto [base, pages] = *it;
            MUST(frames->free_pages(base, pages));
            for (size_t i = 0; i < pages; ++i)
                free_pages.insert(base + i * page_size);
            allocated.erase(it);
            // A second free of the same span is always rejected.
            ASSERT_TRUE(frames->free_pages(base, pages).is_error());
        } else {
            uint64_t base = (random() % 1000) * page_size;
            size_t pages = 1 + random() % 4;
            bool inside = true, all_free = true;
            for (size_t i = 0; i < pages; ++i) {
                uint64_t a = base + i * page_size;
                bool in_range = false;
                for (auto& range : ranges)
                    in_range = in_range || (a >= range.base && a < range.end());
                inside = inside && in_range;
                all_free = all_free && free_pages.count(a) != 0;
            }
            auto result = frames->reserve(base, pages);
            if (!inside) {
                ASSERT_EQ(error_of(std::move(result)), Errno::INVAL);
            } else if (!all_free) {
                ASSERT_EQ(error_of(std::move(result)), Errno::BUSY);
            } else {
                ASSERT_FALSE(result.is_error());
                take(base, pages);
            }
        }
        ASSERT_EQ(frames->free_pages(), free_pages.size()) << "step " << step;
    }
    for (auto [base, pages] : allocated)
        MUST(frames->free_pages(base, pages));
    EXPECT_EQ(frames->free_pages(), frames->total_pages());
}
