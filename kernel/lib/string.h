#pragma once
// The C memory and string primitives. The kernel defines them itself
// (kernel/runtime/string.cpp); a host build takes libc's.

#include <kernel/lib/kstd.h>

#if defined(TESSERA_KERNEL) && TESSERA_KERNEL
extern "C" {
void* memcpy(void* destination, const void* source, size_t count);
void* memmove(void* destination, const void* source, size_t count);
void* memset(void* destination, int value, size_t count);
int memcmp(const void* a, const void* b, size_t count);
size_t strlen(const char* s);
}
#else
#    include <string.h>
#endif
