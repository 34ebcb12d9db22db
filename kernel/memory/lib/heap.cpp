#include <kernel/lib/bitmap.h>
#include <kernel/lib/checked.h>
#include <kernel/memory/lib/heap.h>

namespace tessera {

namespace {

// Distinct and unlikely as data, so that a stray pointer is caught.
constexpr uint32_t slab_magic = 0x51ab51ab;
constexpr uint32_t large_magic = 0x1a46e0b5;
// Written over a header before its page goes back to the source.
constexpr uint32_t dead_magic = 0xdeadf4ee;

uintptr_t page_of(uintptr_t address) { return address & ~(Heap::page_bytes - 1); }

} // namespace

Heap::Heap(PageSource& source)
    : m_source(source)
{
}

Heap::~Heap()
{
    for (auto& size_class : m_classes) {
        if (size_class.spare != nullptr)
            release_slab(*kstd::exchange(size_class.spare, nullptr));
    }
}

ErrorOr<void*> Heap::allocate(size_t size, size_t alignment)
{
    if (!is_power_of_two(alignment) || alignment > max_alignment)
        return Error(Errno::INVAL, "heap alignment not a power of two up to a page");
    // Zero-byte allocations still get a unique object.
    if (size == 0)
        size = 1;
    if (size <= largest_size_class && alignment <= slab_header_size) {
        size_t needed = size > alignment ? size : alignment;
        size_t index = 0;
        while (class_size(index) < needed)
            ++index;
        return allocate_from_class(index);
    }
    return allocate_large(size, alignment);
}

ErrorOr<Heap::Slab*> Heap::create_slab(size_t index)
{
    auto page = m_source.allocate_pages(1);
    if (page.is_error())
        return Error(Errno::NOMEM, "heap page source exhausted");
    auto base = reinterpret_cast<uintptr_t>(page.value());
    VERIFY(base != 0 && page_of(base) == base);

    auto* slab = new (page.value()) Slab {};
    slab->magic = slab_magic;
    slab->class_index = static_cast<uint16_t>(index);
    slab->owner = this;
    size_t capacity = objects_per_slab(class_size(index));
    slab->free_count = static_cast<uint16_t>(capacity);
    // Thread the free list in address order, so that a fresh slab hands out
    // its objects lowest first.
    FreeObject* next = nullptr;
    for (size_t i = capacity; i > 0; --i) {
        auto* object = reinterpret_cast<FreeObject*>(base + slab_header_size + (i - 1) * class_size(index));
        object->next = next;
        next = object;
    }
    slab->free_list = next;
    ++m_pages_held;
    return slab;
}

void Heap::release_slab(Slab& slab)
{
    VERIFY(!slab.list_node.is_linked());
    slab.magic = dead_magic;
    slab.~Slab();
    m_source.free_pages(&slab, 1);
    --m_pages_held;
}

size_t Heap::object_index(const Slab& slab, uintptr_t address) const
{
    size_t offset = address - reinterpret_cast<uintptr_t>(&slab);
    size_t size = class_size(slab.class_index);
    VERIFY(offset >= slab_header_size);
    VERIFY((offset - slab_header_size) % size == 0);
    size_t index = (offset - slab_header_size) / size;
    VERIFY(index < objects_per_slab(size));
    return index;
}

ErrorOr<void*> Heap::allocate_from_class(size_t index)
{
    auto& size_class = m_classes[index];
    Slab* slab = size_class.partial.first();
    if (slab == nullptr) {
        slab = size_class.spare != nullptr ? kstd::exchange(size_class.spare, nullptr) : TRY(create_slab(index));
        size_class.partial.append(*slab);
    }

    // The free list lives in freed objects, where a use-after-free can
    // scribble on it: check the head against the slab before trusting it.
    FreeObject* object = slab->free_list;
    VERIFY(object != nullptr && slab->free_count != 0);
    auto address = reinterpret_cast<uintptr_t>(object);
    VERIFY(page_of(address) == reinterpret_cast<uintptr_t>(slab));
    Bitmap allocated(slab->allocated, objects_per_slab(class_size(index)));
    size_t object_number = object_index(*slab, address);
    VERIFY(!allocated.get(object_number));

    allocated.set(object_number);
    slab->free_list = object->next;
    --slab->free_count;
    if (slab->free_count == 0)
        size_class.partial.remove(*slab);
    m_bytes_in_use += class_size(index);
    return static_cast<void*>(object);
}

ErrorOr<void*> Heap::allocate_large(size_t size, size_t alignment)
{
    // The object follows the header, aligned; with page alignment that is
    // the start of the second page.
    size_t object_offset = MUST(checked_align_up(sizeof(LargeAllocation), alignment));
    auto total = checked_add(object_offset, size);
    if (total.is_error())
        return Error(Errno::NOMEM, "heap allocation size overflows");
    auto rounded = checked_align_up(total.value(), page_bytes);
    if (rounded.is_error())
        return Error(Errno::NOMEM, "heap allocation size overflows");
    size_t page_count = rounded.value() / page_bytes;

    auto pages = m_source.allocate_pages(page_count);
    if (pages.is_error())
        return Error(Errno::NOMEM, "heap page source exhausted");
    auto base = reinterpret_cast<uintptr_t>(pages.value());
    VERIFY(base != 0 && page_of(base) == base);

    auto* header = new (pages.value()) LargeAllocation {};
    header->magic = large_magic;
    header->owner = this;
    header->object = reinterpret_cast<void*>(base + object_offset);
    header->size = size;
    header->page_count = page_count;
    m_pages_held += page_count;
    m_bytes_in_use += size;
    return header->object;
}

void Heap::free(void* pointer)
{
    if (pointer == nullptr)
        return;
    auto address = reinterpret_cast<uintptr_t>(pointer);
    // Slab objects never start a page (the header does), so a page-aligned
    // pointer can only be a page-aligned large object, header one page back.
    if (page_of(address) == address) {
        VERIFY(address > page_bytes);
        auto* header = reinterpret_cast<LargeAllocation*>(address - page_bytes);
        VERIFY(header->magic == large_magic);
        free_large(*header, pointer);
        return;
    }
    uintptr_t page = page_of(address);
    uint32_t magic = *reinterpret_cast<const uint32_t*>(page);
    if (magic == slab_magic) {
        free_slab_object(*reinterpret_cast<Slab*>(page), address);
        return;
    }
    VERIFY(magic == large_magic);
    free_large(*reinterpret_cast<LargeAllocation*>(page), pointer);
}

void Heap::free_slab_object(Slab& slab, uintptr_t address)
{
    VERIFY(slab.owner == this);
    VERIFY(slab.class_index < size_class_count);
    size_t size = class_size(slab.class_index);
    size_t capacity = objects_per_slab(size);
    Bitmap allocated(slab.allocated, capacity);
    size_t index = object_index(slab, address);
    // A clear bit means the object is already free: a double free.
    VERIFY(allocated.get(index));

    allocated.clear(index);
    auto* object = reinterpret_cast<FreeObject*>(address);
    object->next = slab.free_list;
    slab.free_list = object;
    bool was_full = slab.free_count == 0;
    ++slab.free_count;
    m_bytes_in_use -= size;

    auto& size_class = m_classes[slab.class_index];
    if (slab.free_count == capacity) {
        if (!was_full)
            size_class.partial.remove(slab);
        if (size_class.spare == nullptr)
            size_class.spare = &slab;
        else
            release_slab(slab);
    } else if (was_full) {
        size_class.partial.prepend(slab);
    }
}

void Heap::free_large(LargeAllocation& header, void* pointer)
{
    VERIFY(header.owner == this);
    VERIFY(header.object == pointer);
    VERIFY(header.page_count != 0 && header.page_count <= m_pages_held);
    size_t page_count = header.page_count;
    m_bytes_in_use -= header.size;
    m_pages_held -= page_count;
    // Should the source not reuse the pages at once, a second free() of the
    // same pointer then fails the magic check instead of freeing twice.
    header.magic = dead_magic;
    m_source.free_pages(&header, page_count);
}

} // namespace tessera
