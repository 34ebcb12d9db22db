#include <arch/paging.h>
#include <kernel/locking/spinlock.h>
#include <kernel/memory/kernel_heap.h>
#include <kernel/memory/lib/heap.h>
#include <kernel/memory/physical.h>

namespace tessera {

namespace {

// Heap pages are physically contiguous runs used through the physmap.
class PhysmapPageSource final : public PageSource {
public:
    ErrorOr<void*> allocate_pages(size_t count) override
    {
        uint64_t physical = TRY(allocate_physical_pages(count));
        return arch::physical_to_virtual(physical);
    }
    void free_pages(void* address, size_t count) override
    {
        MUST(free_physical_pages(arch::virtual_to_physical(address), count));
    }
};

constinit PhysmapPageSource* s_source = nullptr;
alignas(PhysmapPageSource) char s_source_storage[sizeof(PhysmapPageSource)];
alignas(SpinlockProtected<Heap, LockRank::Heap>) char s_heap_storage[sizeof(SpinlockProtected<Heap, LockRank::Heap>)];
constinit SpinlockProtected<Heap, LockRank::Heap>* s_heap = nullptr;

} // namespace

void kernel_heap_initialize()
{
    s_source = new (s_source_storage) PhysmapPageSource;
    s_heap = new (s_heap_storage) SpinlockProtected<Heap, LockRank::Heap>(*s_source);
}

ErrorOr<void*> kernel_heap_allocate(size_t size, size_t alignment)
{
    VERIFY(s_heap != nullptr);
    return s_heap->with([&](Heap& heap) { return heap.allocate(size, alignment); });
}

void* kmalloc(size_t size)
{
    auto result = kernel_heap_allocate(size);
    return result.is_error() ? nullptr : result.value();
}

void kfree(void* pointer)
{
    if (pointer == nullptr)
        return;
    s_heap->with([&](Heap& heap) { heap.free(pointer); });
}

size_t kernel_heap_bytes_in_use()
{
    return s_heap->with([](Heap& heap) { return heap.bytes_in_use(); });
}

} // namespace tessera
