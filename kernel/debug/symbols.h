#pragma once
// Kernel symbols for backtraces. GRUB loads build/tessera.sym (made by
// tools/mksyms.py) as the multiboot2 module "symbols"; without it,
// addresses print unsymbolized.

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

ErrorOr<void> symbols_install(const uint8_t* table, size_t length);
// Writes "name+0xoff" (or "?") into `buffer`.
void symbolize(uint64_t address, char* buffer, size_t size);

} // namespace tessera
