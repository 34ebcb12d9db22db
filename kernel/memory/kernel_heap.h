#pragma once
// The kernel heap: size classes over pages from the physical allocator,
// reached through the physmap. Every allocation can fail; callers use
// `new (kstd::nothrow)` or kmalloc() and handle nullptr / ENOMEM.

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

void kernel_heap_initialize();
ErrorOr<void*> kernel_heap_allocate(size_t size, size_t alignment = 16);
void* kmalloc(size_t size);
void kfree(void* pointer);
size_t kernel_heap_bytes_in_use();

// Allocates a T with `new (nothrow)`, turning nullptr into ENOMEM.
template<typename T, typename... Args>
ErrorOr<T*> try_make(Args&&... args)
{
    T* object = new (kstd::nothrow) T(kstd::forward<Args>(args)...);
    if (object == nullptr)
        return Error(Errno::NOMEM, "out of kernel heap");
    return object;
}

} // namespace tessera
