// Selftests of the kernel heap (kernel/memory/kernel_heap.h) as the kernel
// really runs it: behind its spinlock, on pages from the physical allocator
// seen through the physmap. The size-class logic itself has host tests; here
// every object is written end to end, so an object that overlaps another or
// lies on memory that is not really there shows up as a wrong pattern or a
// fault.
//
// Cases run one at a time and nothing else allocates meanwhile, so
// kernel_heap_bytes_in_use() is compared exactly against its baseline.

#include <kernel/memory/kernel_heap.h>
#include <kernel/memory/physical.h>
#include <kernel/selftest/selftest.h>

namespace tessera {

namespace {

constexpr size_t smallest_class = 16;
constexpr size_t largest_class = 2048;
constexpr size_t kib = 1024;

uint8_t pattern_byte(size_t object, size_t offset) { return static_cast<uint8_t>(object * 31 + offset * 7 + 1); }

void fill(void* pointer, size_t size, size_t object)
{
    auto* bytes = static_cast<volatile uint8_t*>(pointer);
    for (size_t i = 0; i < size; ++i)
        bytes[i] = pattern_byte(object, i);
}

bool holds(const void* pointer, size_t size, size_t object)
{
    auto* bytes = static_cast<const volatile uint8_t*>(pointer);
    for (size_t i = 0; i < size; ++i) {
        if (bytes[i] != pattern_byte(object, i))
            return false;
    }
    return true;
}

uintptr_t address_of(const void* pointer) { return reinterpret_cast<uintptr_t>(pointer); }

// For each class: objects of the class's exact size and of one byte more
// than the class below, several per class, filled and checked.
void every_size_class()
{
    size_t baseline = kernel_heap_bytes_in_use();
    constexpr size_t per_class = 4;
    void* objects[2 * per_class] {};
    for (size_t size = smallest_class; size <= largest_class; size *= 2) {
        size_t sizes[2] = { size, size / 2 + 1 };
        for (size_t i = 0; i < 2 * per_class; ++i) {
            size_t bytes = sizes[i % 2];
            size_t before = kernel_heap_bytes_in_use();
            objects[i] = KMUST(kernel_heap_allocate(bytes));
            // Accounted at least as asked, at most one class up.
            size_t charged = kernel_heap_bytes_in_use() - before;
            KEXPECT(charged >= bytes && charged <= size);
            KEXPECT_EQ(address_of(objects[i]) % 16, 0u);
            fill(objects[i], bytes, i);
        }
        for (size_t i = 0; i < 2 * per_class; ++i) {
            KEXPECT(holds(objects[i], sizes[i % 2], i));
            kfree(objects[i]);
        }
    }
    KEXPECT_EQ(kernel_heap_bytes_in_use(), baseline);
}

// Bigger than the largest class: whole pages from the physical allocator,
// which get them all back on free.
void large_allocations()
{
    size_t baseline = kernel_heap_bytes_in_use();
    uint64_t free_before = physical_memory_stats().free_pages;
    constexpr size_t sizes[] = { largest_class + 1, 4 * kib, 12 * kib + 5, 64 * kib, 256 * kib };
    constexpr size_t count = sizeof(sizes) / sizeof(sizes[0]);
    void* objects[count] {};
    for (size_t i = 0; i < count; ++i) {
        objects[i] = KMUST(kernel_heap_allocate(sizes[i]));
        KEXPECT_EQ(address_of(objects[i]) % 16, 0u);
        fill(objects[i], sizes[i], i);
    }
    uint64_t free_during = physical_memory_stats().free_pages;
    // 256 KiB alone needs 64 pages.
    KEXPECT(free_before - free_during >= 64);
    for (size_t i = 0; i < count; ++i) {
        KEXPECT(holds(objects[i], sizes[i], i));
        kfree(objects[i]);
    }
    KEXPECT_EQ(kernel_heap_bytes_in_use(), baseline);
    KEXPECT_EQ(physical_memory_stats().free_pages, free_before);
}

void alignment()
{
    size_t baseline = kernel_heap_bytes_in_use();
    constexpr size_t sizes[] = { 1, 24, 100, 3000, 5000 };
    for (size_t align = 16; align <= 4096; align *= 2) {
        for (size_t size : sizes) {
            void* object = KMUST(kernel_heap_allocate(size, align));
            KEXPECT_EQ(address_of(object) % align, 0u);
            fill(object, size, align);
            KEXPECT(holds(object, size, align));
            kfree(object);
        }
    }
    // Not a power of two, or more than a page: refused, nothing charged.
    for (size_t bad : { size_t(0), size_t(3), size_t(48), size_t(8192) }) {
        auto result = kernel_heap_allocate(64, bad);
        KEXPECT(result.is_error());
        if (result.is_error())
            KEXPECT_EQ(result.error().code(), Errno::INVAL);
    }
    KEXPECT_EQ(kernel_heap_bytes_in_use(), baseline);
}

// Many live objects of mixed sizes: no two address ranges intersect, and
// every object still holds its own pattern after all were written.
void no_overlap()
{
    constexpr size_t count = 96;
    void* objects[count] {};
    size_t sizes[count] {};
    for (size_t i = 0; i < count; ++i) {
        sizes[i] = 8 + (i * 37) % 700 + (i % 16 == 0 ? 5000 : 0);
        objects[i] = kmalloc(sizes[i]);
        KEXPECT(objects[i] != nullptr);
        if (objects[i] == nullptr) {
            sizes[i] = 0;
            continue;
        }
        fill(objects[i], sizes[i], i);
    }
    for (size_t i = 0; i < count; ++i) {
        KEXPECT(holds(objects[i], sizes[i], i));
        for (size_t j = 0; j < i; ++j) {
            if (sizes[i] == 0 || sizes[j] == 0)
                continue;
            bool disjoint = address_of(objects[i]) + sizes[i] <= address_of(objects[j])
                || address_of(objects[j]) + sizes[j] <= address_of(objects[i]);
            KEXPECT(disjoint);
        }
    }
    // Free every other object and reallocate: the new objects must not land
    // on the survivors.
    for (size_t i = 0; i < count; i += 2) {
        kfree(objects[i]);
        objects[i] = kmalloc(sizes[i] != 0 ? sizes[i] : 1);
        KEXPECT(objects[i] != nullptr);
        if (objects[i] == nullptr)
            sizes[i] = 0;
        else
            fill(objects[i], sizes[i], i + 1000);
    }
    for (size_t i = 0; i < count; ++i)
        KEXPECT(holds(objects[i], sizes[i], i % 2 == 0 ? i + 1000 : i));
    for (size_t i = 0; i < count; ++i)
        kfree(objects[i]);
}

void bytes_in_use_returns_to_baseline()
{
    size_t baseline = kernel_heap_bytes_in_use();
    constexpr size_t count = 64;
    void* objects[count] {};
    size_t requested = 0;
    for (size_t i = 0; i < count; ++i) {
        size_t size = 1 + i * 53;
        objects[i] = KMUST(kernel_heap_allocate(size));
        requested += size;
    }
    KEXPECT(kernel_heap_bytes_in_use() >= baseline + requested);
    // Free in an order unrelated to allocation.
    for (size_t step = 0; step < count; ++step) {
        size_t i = (step * 29) % count; // 29 is coprime with 64
        kfree(objects[i]);
    }
    KEXPECT_EQ(kernel_heap_bytes_in_use(), baseline);
    // Zero bytes still give unique objects; freeing null is a no-op.
    void* first = KMUST(kernel_heap_allocate(0));
    void* second = KMUST(kernel_heap_allocate(0));
    KEXPECT(first != second);
    kfree(first);
    kfree(second);
    kfree(nullptr);
    KEXPECT_EQ(kernel_heap_bytes_in_use(), baseline);
}

struct Tracked {
    Tracked(int value, uint64_t tag, int& destroyed)
        : m_value(value)
        , m_tag(tag)
        , m_destroyed(destroyed)
    {
    }
    ~Tracked() { ++m_destroyed; }

    int m_value;
    uint64_t m_tag;
    int& m_destroyed;
    uint8_t m_payload[200] {};
};

void try_make_object()
{
    size_t baseline = kernel_heap_bytes_in_use();
    int destroyed = 0;
    Tracked* object = KMUST(try_make<Tracked>(42, 0x7e55e7a, destroyed));
    KEXPECT_EQ(object->m_value, 42);
    KEXPECT_EQ(object->m_tag, 0x7e55e7au);
    KEXPECT_EQ(address_of(object) % alignof(Tracked), 0u);
    bool zeroed = true;
    for (uint8_t byte : object->m_payload)
        zeroed = zeroed && byte == 0;
    KEXPECT(zeroed);
    KEXPECT(kernel_heap_bytes_in_use() >= baseline + sizeof(Tracked));
    delete object;
    KEXPECT_EQ(destroyed, 1);
    KEXPECT_EQ(kernel_heap_bytes_in_use(), baseline);

    // Arrays through nothrow new[] come from the same heap.
    auto* words = new (kstd::nothrow) uint64_t[512];
    KEXPECT(words != nullptr);
    if (words != nullptr) {
        KEXPECT(kernel_heap_bytes_in_use() >= baseline + 512 * sizeof(uint64_t));
        delete[] words;
    }
    KEXPECT_EQ(kernel_heap_bytes_in_use(), baseline);
}

} // namespace

SELFTEST_SUITE(memory_heap, CONFIG_HEAP_SELFTEST, SELFTEST_CASE(every_size_class), SELFTEST_CASE(large_allocations),
    SELFTEST_CASE(alignment), SELFTEST_CASE(no_overlap), SELFTEST_CASE(bytes_in_use_returns_to_baseline),
    SELFTEST_CASE(try_make_object));

} // namespace tessera
