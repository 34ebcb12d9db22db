#include <kernel/memory/lib/heap.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <vector>

using namespace tessera;

namespace {

constexpr size_t page = Heap::page_bytes;

// Pages from aligned_alloc, with a budget so that exhaustion can be tested.
// Returned pages are poisoned and, by default, freed at once so that ASan
// catches any later use; with `quarantine` they are kept until destruction
// so that a double free's header check can be observed.
class FakePageSource final : public PageSource {
public:
    // The default budget (1 GiB) also keeps absurd requests away from
    // aligned_alloc, which ASan would report instead of failing.
    static constexpr size_t default_budget = size_t(1) << 18;

    explicit FakePageSource(size_t budget_pages = default_budget, bool quarantine = false)
        : m_budget(budget_pages)
        , m_quarantine(quarantine)
    {
    }
    ~FakePageSource()
    {
        for (auto& [address, count] : m_outstanding)
            std::free(address);
        for (void* address : m_quarantined)
            std::free(address);
    }

    ErrorOr<void*> allocate_pages(size_t count) override
    {
        ++m_requests;
        EXPECT_NE(count, 0u);
        if (count > m_budget - m_pages_in_use)
            return Error(Errno::NOMEM, "fake page budget exhausted");
        void* address = std::aligned_alloc(page, count * page);
        if (address == nullptr)
            return Error(Errno::NOMEM, "host out of memory");
        // Fresh pages are garbage, as in the kernel.
        std::memset(address, 0xa5, count * page);
        m_outstanding[address] = count;
        m_pages_in_use += count;
        return address;
    }

    void free_pages(void* address, size_t count) override
    {
        auto it = m_outstanding.find(address);
        ASSERT_NE(it, m_outstanding.end()) << "freeing pages the source never gave out";
        ASSERT_EQ(it->second, count) << "freeing a different page count than allocated";
        m_outstanding.erase(it);
        m_pages_in_use -= count;
        std::memset(address, 0xdd, count * page);
        if (m_quarantine)
            m_quarantined.push_back(address);
        else
            std::free(address);
    }

    size_t pages_in_use() const { return m_pages_in_use; }
    size_t requests() const { return m_requests; }
    void set_budget(size_t pages) { m_budget = pages; }

private:
    std::map<void*, size_t> m_outstanding;
    std::vector<void*> m_quarantined;
    size_t m_budget;
    size_t m_pages_in_use { 0 };
    size_t m_requests { 0 };
    bool m_quarantine;
};

// What bytes_in_use() should grow by for a request (see heap.h).
size_t accounted_size(size_t size, size_t alignment)
{
    size = std::max<size_t>(size, 1);
    if (size > Heap::largest_size_class || alignment > Heap::slab_header_size)
        return size;
    size_t needed = std::max(size, alignment);
    size_t size_class = Heap::smallest_size_class;
    while (size_class < needed)
        size_class *= 2;
    return size_class;
}

uintptr_t address_of(void* pointer) { return reinterpret_cast<uintptr_t>(pointer); }

Errno error_of(ErrorOr<void*>&& result) { return result.is_error() ? result.error().code() : Errno {}; }

} // namespace

TEST(Heap, SmallAllocationsUseSizeClasses)
{
    FakePageSource source;
    Heap heap(source);
    struct Case {
        size_t size;
        size_t accounted;
    };
    for (auto [size, accounted] :
        { Case { 1, 16 }, Case { 16, 16 }, Case { 17, 32 }, Case { 33, 64 }, Case { 100, 128 }, Case { 129, 256 },
            Case { 300, 512 }, Case { 1000, 1024 }, Case { 1025, 2048 }, Case { 2048, 2048 } }) {
        void* pointer = MUST(heap.allocate(size));
        EXPECT_EQ(address_of(pointer) % 16, 0u);
        EXPECT_NE(address_of(pointer) % page, 0u) << "slab objects never start a page";
        EXPECT_EQ(heap.bytes_in_use(), accounted) << size;
        std::memset(pointer, 0x11, size);
        heap.free(pointer);
        EXPECT_EQ(heap.bytes_in_use(), 0u);
    }
    // One spare slab per class used.
    EXPECT_EQ(heap.pages_held(), Heap::size_class_count);
    EXPECT_EQ(source.pages_in_use(), heap.pages_held());
}

TEST(Heap, ZeroSizeGivesUniquePointers)
{
    FakePageSource source;
    Heap heap(source);
    void* a = MUST(heap.allocate(0));
    void* b = MUST(heap.allocate(0));
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_NE(a, b);
    EXPECT_EQ(heap.bytes_in_use(), 32u);
    heap.free(a);
    heap.free(b);
    EXPECT_EQ(heap.bytes_in_use(), 0u);
    heap.free(nullptr); // ignored
}

TEST(Heap, HonoursAlignment)
{
    FakePageSource source;
    Heap heap(source);
    for (size_t alignment = 1; alignment <= Heap::max_alignment; alignment *= 2) {
        for (size_t size : { 0u, 1u, 24u, 100u, 2000u, 2048u, 3000u, 5000u }) {
            void* pointer = MUST(heap.allocate(size, alignment));
            EXPECT_EQ(address_of(pointer) % alignment, 0u) << size << " @" << alignment;
            EXPECT_EQ(heap.bytes_in_use(), accounted_size(size, alignment));
            std::memset(pointer, 0x22, size);
            heap.free(pointer);
        }
    }
    EXPECT_EQ(heap.bytes_in_use(), 0u);
}

TEST(Heap, RejectsBadAlignment)
{
    FakePageSource source;
    Heap heap(source);
    EXPECT_EQ(error_of(heap.allocate(16, 0)), Errno::INVAL);
    EXPECT_EQ(error_of(heap.allocate(16, 3)), Errno::INVAL);
    EXPECT_EQ(error_of(heap.allocate(16, 48)), Errno::INVAL);
    EXPECT_EQ(error_of(heap.allocate(16, 2 * page)), Errno::INVAL);
    EXPECT_EQ(error_of(heap.allocate(16, size_t(1) << 63)), Errno::INVAL);
    EXPECT_EQ(source.requests(), 0u);
    EXPECT_EQ(heap.pages_held(), 0u);
}

TEST(Heap, AlignedSmallRequestsStayInSlabs)
{
    FakePageSource source;
    Heap heap(source);
    // 64-byte aligned 8-byte objects come from the 64-byte class, not pages.
    std::vector<void*> pointers;
    for (size_t i = 0; i < Heap::objects_per_slab(64); ++i) {
        pointers.push_back(MUST(heap.allocate(8, 64)));
        EXPECT_EQ(address_of(pointers.back()) % 64, 0u);
    }
    EXPECT_EQ(heap.pages_held(), 1u);
    for (void* pointer : pointers)
        heap.free(pointer);
    // 128 still fits a slab; 256 needs its own page.
    void* a = MUST(heap.allocate(8, 128));
    EXPECT_EQ(heap.pages_held(), 2u);
    void* b = MUST(heap.allocate(8, 256));
    EXPECT_EQ(address_of(b) % 256, 0u);
    EXPECT_EQ(heap.pages_held(), 3u);
    heap.free(a);
    heap.free(b);
    EXPECT_EQ(heap.pages_held(), 2u);
}

TEST(Heap, SlabsFillAndEmptySlabsGoBack)
{
    FakePageSource source;
    Heap heap(source);
    size_t per_slab = Heap::objects_per_slab(16);
    EXPECT_EQ(per_slab, 248u);
    std::vector<void*> objects;
    for (size_t i = 0; i < per_slab; ++i)
        objects.push_back(MUST(heap.allocate(16)));
    EXPECT_EQ(heap.pages_held(), 1u);
    // Handed out lowest first from one page.
    for (size_t i = 1; i < per_slab; ++i)
        EXPECT_EQ(address_of(objects[i]), address_of(objects[i - 1]) + 16);
    objects.push_back(MUST(heap.allocate(16)));
    EXPECT_EQ(heap.pages_held(), 2u);
    for (size_t i = 0; i < 3 * per_slab; ++i)
        objects.push_back(MUST(heap.allocate(16)));
    EXPECT_EQ(heap.pages_held(), 5u);
    EXPECT_EQ(heap.bytes_in_use(), objects.size() * 16);
    // Free in an interleaved order; only one empty slab may stay.
    for (size_t start : { 1u, 0u }) {
        for (size_t i = start; i < objects.size(); i += 2)
            heap.free(objects[i]);
    }
    EXPECT_EQ(heap.bytes_in_use(), 0u);
    EXPECT_EQ(heap.pages_held(), 1u);
    EXPECT_EQ(source.pages_in_use(), 1u);
}

TEST(Heap, SpareSlabAvoidsPingPong)
{
    FakePageSource source;
    Heap heap(source);
    // The 2048 class holds one object per slab, so every alloc/free pair
    // would otherwise take and return a page.
    EXPECT_EQ(Heap::objects_per_slab(2048), 1u);
    void* first = MUST(heap.allocate(2048));
    heap.free(first);
    size_t requests = source.requests();
    for (int i = 0; i < 100; ++i)
        heap.free(MUST(heap.allocate(2000)));
    EXPECT_EQ(source.requests(), requests);
    // Three live objects, then all freed: one page kept, two returned.
    void* a = MUST(heap.allocate(2048));
    void* b = MUST(heap.allocate(2048));
    void* c = MUST(heap.allocate(2048));
    EXPECT_EQ(heap.pages_held(), 3u);
    heap.free(b);
    heap.free(a);
    heap.free(c);
    EXPECT_EQ(heap.pages_held(), 1u);
    EXPECT_EQ(source.pages_in_use(), 1u);
}

TEST(Heap, LargeAllocationsTakeWholePages)
{
    FakePageSource source;
    Heap heap(source);
    struct Case {
        size_t size;
        size_t alignment;
        size_t pages;
    };
    // The header takes the first bytes of the first page.
    for (auto [size, alignment, pages] :
        { Case { 2049, 16, 1 }, Case { 4000, 16, 1 }, Case { 4096, 16, 2 }, Case { 10000, 16, 3 },
            Case { 1 << 20, 16, 257 }, Case { 100, 256, 1 }, Case { 100, 2048, 1 }, Case { 2048, 2048, 1 },
            Case { 2049, 2048, 2 }, Case { 1, 4096, 2 }, Case { 4096, 4096, 2 }, Case { 4097, 4096, 3 } }) {
        void* pointer = MUST(heap.allocate(size, alignment));
        EXPECT_EQ(address_of(pointer) % alignment, 0u);
        EXPECT_EQ(heap.pages_held(), pages) << size << " @" << alignment;
        EXPECT_EQ(source.pages_in_use(), pages);
        EXPECT_EQ(heap.bytes_in_use(), size);
        std::memset(pointer, 0x33, size);
        heap.free(pointer);
        EXPECT_EQ(heap.pages_held(), 0u);
        EXPECT_EQ(source.pages_in_use(), 0u);
        EXPECT_EQ(heap.bytes_in_use(), 0u);
    }
}

TEST(Heap, ExhaustionLeavesStateIntact)
{
    FakePageSource source(0);
    Heap heap(source);
    EXPECT_EQ(error_of(heap.allocate(16)), Errno::NOMEM);
    EXPECT_EQ(error_of(heap.allocate(5000)), Errno::NOMEM);
    EXPECT_EQ(heap.pages_held(), 0u);
    EXPECT_EQ(heap.bytes_in_use(), 0u);

    source.set_budget(2);
    std::vector<void*> objects;
    for (size_t i = 0; i < Heap::objects_per_slab(64); ++i)
        objects.push_back(MUST(heap.allocate(64)));
    void* large = MUST(heap.allocate(3000));
    EXPECT_EQ(heap.pages_held(), 2u);
    size_t in_use = heap.bytes_in_use();
    // The class is full and the budget spent: no slab, no large pages.
    EXPECT_EQ(error_of(heap.allocate(64)), Errno::NOMEM);
    EXPECT_EQ(error_of(heap.allocate(16)), Errno::NOMEM);
    EXPECT_EQ(error_of(heap.allocate(3000)), Errno::NOMEM);
    EXPECT_EQ(heap.bytes_in_use(), in_use);
    EXPECT_EQ(heap.pages_held(), 2u);
    // Freeing makes room again, in the same slab.
    heap.free(objects[10]);
    void* again = MUST(heap.allocate(50));
    EXPECT_EQ(again, objects[10]);
    heap.free(large);
    void* small = MUST(heap.allocate(16));
    for (void* object : objects)
        heap.free(object);
    heap.free(small);
    EXPECT_EQ(heap.bytes_in_use(), 0u);
}

TEST(Heap, OverflowingSizesFailCleanly)
{
    FakePageSource source;
    Heap heap(source);
    EXPECT_EQ(error_of(heap.allocate(SIZE_MAX)), Errno::NOMEM);
    EXPECT_EQ(error_of(heap.allocate(SIZE_MAX - 16)), Errno::NOMEM);
    EXPECT_EQ(error_of(heap.allocate(SIZE_MAX - 100)), Errno::NOMEM); // rounding up to pages overflows
    EXPECT_EQ(error_of(heap.allocate(SIZE_MAX - 5000, 4096)), Errno::NOMEM);
    // Never reached the source: the arithmetic failed first.
    EXPECT_EQ(source.requests(), 0u);
    // Representable but absurd: the source says no.
    EXPECT_EQ(error_of(heap.allocate(SIZE_MAX / 2)), Errno::NOMEM);
    EXPECT_EQ(heap.pages_held(), 0u);
    EXPECT_EQ(heap.bytes_in_use(), 0u);
}

TEST(Heap, DestructorReturnsSpares)
{
    FakePageSource source;
    {
        Heap heap(source);
        for (size_t size = 16; size <= 2048; size *= 2)
            heap.free(MUST(heap.allocate(size)));
        EXPECT_EQ(source.pages_in_use(), Heap::size_class_count);
    }
    EXPECT_EQ(source.pages_in_use(), 0u);
}

// Random allocations and frees, each object filled with a pattern derived
// from its id; patterns are checked on free and the live set is checked for
// overlap, so that any two objects sharing a byte are caught.
void stress(size_t budget_pages, unsigned seed, int steps)
{
    FakePageSource source(budget_pages);
    Heap heap(source);
    struct Live {
        uint8_t* pointer;
        size_t size;
        size_t alignment;
        uint8_t pattern;
    };
    std::vector<Live> live;
    std::mt19937_64 random(seed);
    size_t expected_in_use = 0;
    size_t failures = 0;

    auto verify = [](const Live& object) {
        for (size_t i = 0; i < object.size; ++i) {
            if (object.pointer[i] != static_cast<uint8_t>(object.pattern + i)) {
                ADD_FAILURE() << "object corrupted at byte " << i;
                return;
            }
        }
    };
    auto check_no_overlap = [&] {
        std::vector<std::pair<uintptr_t, uintptr_t>> spans;
        for (auto& object : live)
            spans.push_back(
                { address_of(object.pointer), address_of(object.pointer) + std::max<size_t>(object.size, 1) });
        std::sort(spans.begin(), spans.end());
        for (size_t i = 1; i < spans.size(); ++i)
            ASSERT_LE(spans[i - 1].second, spans[i].first) << "objects overlap";
    };

    for (int step = 0; step < steps; ++step) {
        bool allocate = live.empty() || random() % 100 < 55;
        if (allocate) {
            size_t size;
            switch (random() % 8) {
            case 0:
                size = random() % 17;
                break;
            case 1:
                size = 2000 + random() % 12000;
                break;
            default:
                size = random() % 700;
            }
            size_t alignment = random() % 4 == 0 ? size_t(1) << (random() % 13) : 16;
            auto result = heap.allocate(size, alignment);
            if (result.is_error()) {
                ASSERT_EQ(result.error().code(), Errno::NOMEM);
                ASSERT_EQ(heap.bytes_in_use(), expected_in_use);
                ++failures;
                continue;
            }
            auto* pointer = static_cast<uint8_t*>(result.value());
            ASSERT_EQ(address_of(pointer) % alignment, 0u);
            Live object { pointer, size, alignment, static_cast<uint8_t>(random()) };
            for (size_t i = 0; i < size; ++i)
                pointer[i] = static_cast<uint8_t>(object.pattern + i);
            live.push_back(object);
            expected_in_use += accounted_size(size, alignment);
        } else {
            size_t index = random() % live.size();
            verify(live[index]);
            heap.free(live[index].pointer);
            expected_in_use -= accounted_size(live[index].size, live[index].alignment);
            live[index] = live.back();
            live.pop_back();
        }
        ASSERT_EQ(heap.bytes_in_use(), expected_in_use);
        ASSERT_EQ(heap.pages_held(), source.pages_in_use());
        if (step % 500 == 0) {
            check_no_overlap();
            for (auto& object : live)
                verify(object);
        }
    }
    check_no_overlap();
    for (auto& object : live) {
        verify(object);
        heap.free(object.pointer);
    }
    EXPECT_EQ(heap.bytes_in_use(), 0u);
    // Only spare slabs remain.
    EXPECT_LE(heap.pages_held(), Heap::size_class_count);
    if (budget_pages != FakePageSource::default_budget) {
        EXPECT_GT(failures, 0u) << "the budget was meant to run out";
    }
}

TEST(Heap, StressRandomAllocFree) { stress(FakePageSource::default_budget, 1, 20000); }
TEST(Heap, StressWithTightBudget) { stress(48, 2, 20000); }

TEST(HeapDeathTest, ForeignPointerVerifies)
{
    FakePageSource source;
    Heap heap(source);
    heap.free(MUST(heap.allocate(16)));
    void* buffer = std::aligned_alloc(page, 2 * page);
    std::memset(buffer, 0, 2 * page);
    auto* bytes = static_cast<uint8_t*>(buffer);
    EXPECT_DEATH(heap.free(bytes + 256), "VERIFY\\(magic == large_magic\\)");
    EXPECT_DEATH(heap.free(bytes + page),
        "VERIFY\\(header->magic == large_magic\\)"); // page-aligned: header checked one page back
    std::free(buffer);
}

TEST(HeapDeathTest, PointerFromAnotherHeapVerifies)
{
    FakePageSource source;
    Heap heap(source);
    Heap other(source);
    void* small = MUST(other.allocate(32));
    void* large = MUST(other.allocate(8000));
    EXPECT_DEATH(heap.free(small), "VERIFY\\(slab.owner == this\\)");
    EXPECT_DEATH(heap.free(large), "VERIFY\\(header.owner == this\\)");
    other.free(small);
    other.free(large);
}

TEST(HeapDeathTest, MisplacedPointerVerifies)
{
    FakePageSource source;
    Heap heap(source);
    auto* object = static_cast<uint8_t*>(MUST(heap.allocate(64)));
    auto* slab_page = reinterpret_cast<uint8_t*>(address_of(object) & ~(page - 1));
    EXPECT_DEATH(heap.free(object + 1), "% size == 0"); // inside an object
    EXPECT_DEATH(heap.free(object + 16), "% size == 0"); // not on an object boundary of the 64 class
    EXPECT_DEATH(heap.free(slab_page + 8), "VERIFY\\(offset >= slab_header_size\\)"); // inside the slab header
    auto* kilobyte = static_cast<uint8_t*>(MUST(heap.allocate(1024)));
    auto* kilobyte_page = reinterpret_cast<uint8_t*>(address_of(kilobyte) & ~(page - 1));
    // Three 1024-byte objects fit after the header; a fourth would not.
    EXPECT_DEATH(heap.free(kilobyte_page + Heap::slab_header_size + 3 * 1024), "VERIFY\\(index < objects_per_slab");
    auto* large = static_cast<uint8_t*>(MUST(heap.allocate(5000)));
    EXPECT_DEATH(heap.free(large + 16), "VERIFY\\(header.object == pointer\\)");
    heap.free(object);
    heap.free(kilobyte);
    heap.free(large);
}

TEST(HeapDeathTest, DoubleFreeVerifies)
{
    FakePageSource source(FakePageSource::default_budget, true);
    Heap heap(source);
    void* keep = MUST(heap.allocate(16)); // keeps the slab alive
    void* object = MUST(heap.allocate(16));
    heap.free(object);
    EXPECT_DEATH(heap.free(object), "VERIFY\\(allocated.get\\(index\\)\\)");
    // A full slab of one object (2048 class), then emptied into the spare.
    void* big = MUST(heap.allocate(2048));
    heap.free(big);
    EXPECT_DEATH(heap.free(big), "VERIFY\\(allocated.get\\(index\\)\\)");
    // Large: the header is marked dead before the pages go back.
    void* large = MUST(heap.allocate(10000));
    heap.free(large);
    EXPECT_DEATH(heap.free(large), "VERIFY\\(magic == large_magic\\)");
    void* aligned = MUST(heap.allocate(10, 4096));
    heap.free(aligned);
    EXPECT_DEATH(heap.free(aligned), "VERIFY\\(header->magic == large_magic\\)");
    heap.free(keep);
}

TEST(HeapDeathTest, CorruptedFreeListVerifies)
{
    FakePageSource source;
    Heap heap(source);
    void* keep = MUST(heap.allocate(32));
    void* a = MUST(heap.allocate(32));
    void* b = MUST(heap.allocate(32));
    heap.free(a);
    heap.free(b); // free list: b -> a -> rest
    // A use-after-free write over b's link.
    *static_cast<uintptr_t*>(b) = 0x1234;
    EXPECT_EQ(MUST(heap.allocate(32)), b);
    EXPECT_DEATH((void)heap.allocate(32), "VERIFY\\(page_of\\(address\\)");
    // A link pointing at a live object of the same slab.
    heap.free(b);
    *static_cast<void**>(b) = keep;
    EXPECT_EQ(MUST(heap.allocate(32)), b);
    EXPECT_DEATH((void)heap.allocate(32), "VERIFY\\(!allocated.get\\(object_number\\)\\)");
    // Repair so that teardown is clean: b's link goes back to a.
    heap.free(b);
    *static_cast<void**>(b) = a;
    heap.free(keep);
    EXPECT_EQ(heap.bytes_in_use(), 0u);
}
