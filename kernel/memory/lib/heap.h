#pragma once
// The kernel heap core: size classes of 16 to 2048 bytes carved from 4 KiB
// slabs, and whole pages for anything bigger or more aligned. Pages come
// from an abstract PageSource, so the same code runs on the kernel's page
// allocator and on the host under test.
//
// Every page the heap owns starts with a header. A slab page's header
// describes its objects; a large allocation's header sits at the start of its
// first page with the object after it. free() finds the header by rounding
// the pointer down to its page (or, for a page-aligned object, the page
// before) and tells the two apart by their magic numbers.
//
// Not thread-safe: the kernel wraps the heap in a SpinlockProtected.

#include <kernel/lib/error_or.h>
#include <kernel/lib/intrusive_list.h>
#include <kernel/lib/kstd.h>

namespace tessera {

// Hands out page-aligned (4096-byte) virtual memory.
class PageSource {
public:
    virtual ErrorOr<void*> allocate_pages(size_t count) = 0;
    virtual void free_pages(void* address, size_t count) = 0;

protected:
    ~PageSource() = default;
};

class Heap {
public:
    static constexpr size_t page_bytes = 4096;
    static constexpr size_t size_class_count = 8;
    static constexpr size_t smallest_size_class = 16;
    static constexpr size_t largest_size_class = 2048;
    // Slab objects start this far into their page, so an object of class c
    // is aligned to min(c, slab_header_size): requests aligned up to this
    // much are served from slabs by picking a large enough class.
    static constexpr size_t slab_header_size = 128;
    static constexpr size_t max_alignment = page_bytes;

    static constexpr size_t objects_per_slab(size_t object_size)
    {
        return (page_bytes - slab_header_size) / object_size;
    }

    explicit Heap(PageSource&);
    // Returns spare slabs to the source. Pages still holding live
    // allocations are left alone: nothing can safely be done with them.
    ~Heap();
    Heap(const Heap&) = delete;
    Heap& operator=(const Heap&) = delete;

    // At least `size` bytes aligned to `alignment` (a power of two up to
    // max_alignment). allocate(0) returns a unique pointer like allocate(1).
    // EINVAL for a bad alignment; ENOMEM when the source is exhausted or the
    // size can never fit (no heap state changes on error).
    ErrorOr<void*> allocate(size_t size, size_t alignment = smallest_size_class);

    // Frees a pointer from allocate(); null is ignored. VERIFYs (panics) on a
    // pointer this heap did not hand out and on a detected double free. A
    // double free of a large allocation is detected only while its pages have
    // not been reused by the source.
    void free(void* pointer);

    // Bytes handed out and not freed: the class size for slab objects, the
    // requested size for large allocations.
    size_t bytes_in_use() const { return m_bytes_in_use; }
    // Pages currently taken from the source (live slabs, spares, large).
    size_t pages_held() const { return m_pages_held; }

private:
    struct FreeObject {
        FreeObject* next;
    };

    // The header at the start of every slab page.
    struct Slab {
        uint32_t magic;
        uint16_t class_index;
        uint16_t free_count;
        Heap* owner;
        FreeObject* free_list;
        IntrusiveListNode list_node;
        // Bit i set: object i is handed out. This, not the free list, is
        // the truth that catches double frees and free-list corruption.
        uint64_t allocated[4];
    };
    static_assert(sizeof(Slab) <= slab_header_size);
    static_assert((page_bytes - slab_header_size) / smallest_size_class <= sizeof(Slab::allocated) * 8);

    // The header at the start of a large allocation's first page.
    struct LargeAllocation {
        uint32_t magic;
        Heap* owner;
        void* object;
        size_t size;
        size_t page_count;
    };

    struct SizeClass {
        // Slabs with both free and used objects. Full slabs are on no list:
        // free() finds them through the page header.
        IntrusiveList<Slab, &Slab::list_node> partial;
        // At most one empty slab kept back, so that an alloc/free pair at a
        // slab boundary does not ping-pong pages with the source.
        Slab* spare { nullptr };
    };

    static constexpr size_t class_size(size_t index) { return smallest_size_class << index; }

    ErrorOr<void*> allocate_from_class(size_t index);
    ErrorOr<void*> allocate_large(size_t size, size_t alignment);
    ErrorOr<Slab*> create_slab(size_t index);
    void release_slab(Slab&);
    size_t object_index(const Slab&, uintptr_t address) const;
    void free_slab_object(Slab&, uintptr_t address);
    void free_large(LargeAllocation&, void* pointer);

    PageSource& m_source;
    SizeClass m_classes[size_class_count];
    size_t m_bytes_in_use { 0 };
    size_t m_pages_held { 0 };
};

} // namespace tessera
