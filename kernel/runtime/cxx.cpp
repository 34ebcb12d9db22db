// What the C++ compiler expects of a freestanding runtime: global
// constructors, pure-virtual traps, and nothrow operator new/delete over the
// kernel heap. Throwing operator new is deliberately not defined: every
// allocation in the kernel is fallible (`new (kstd::nothrow)`), so a plain
// `new` fails to link.
#include <kernel/console/panic.h>
#include <kernel/lib/kstd.h>
#include <kernel/memory/kernel_heap.h>

extern "C" {
using Constructor = void (*)();
extern Constructor __init_array_start[];
extern Constructor __init_array_end[];

void __cxa_pure_virtual() { tessera::panic("pure virtual function called"); }
// Kernel globals are never destroyed.
int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }
void* __dso_handle = nullptr;
}

namespace tessera {

void run_global_constructors()
{
    for (Constructor* constructor = __init_array_start; constructor != __init_array_end; ++constructor)
        (*constructor)();
}

} // namespace tessera

void* operator new(size_t size, const kstd::nothrow_t&) noexcept { return tessera::kmalloc(size); }
void* operator new[](size_t size, const kstd::nothrow_t&) noexcept { return tessera::kmalloc(size); }
void operator delete(void* pointer) noexcept { tessera::kfree(pointer); }
void operator delete(void* pointer, size_t) noexcept { tessera::kfree(pointer); }
void operator delete[](void* pointer) noexcept { tessera::kfree(pointer); }
void operator delete[](void* pointer, size_t) noexcept { tessera::kfree(pointer); }

// The one place the kernel defines something in namespace std: the nothrow
// tag object, which libsupc++ would normally provide.
#undef std
namespace std {
const nothrow_t nothrow {};
}
