#pragma once
// Kernel page tables (4-level). [intel/vol3]: 4.5 "4-level paging".
// The kernel half is built once by paging_initialize(): the physmap (all
// RAM, 2 MiB pages, no-execute), the kernel image with per-section
// permissions (text RX, rodata R, data RW+NX), an unmapped guard page under
// the boot stack, and an uncached MMIO window.

#include <arch/memory_layout.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera::arch {

struct PageAttributes {
    bool writable { false };
    bool executable { false };
    bool uncached { false };
};

// The kernel half of every address space: the upper canonical half (physmap,
// MMIO window, stacks, image). Generic code asks is_kernel_address().
constexpr uint64_t kernel_address_space_base = 0xffff800000000000;
inline bool is_kernel_address(uint64_t virtual_address) { return virtual_address >= kernel_address_space_base; }
static_assert(PHYSMAP_BASE >= kernel_address_space_base);

inline void* physical_to_virtual(uint64_t physical) { return reinterpret_cast<void*>(PHYSMAP_BASE + physical); }
// For addresses in the physmap or the kernel image only.
uint64_t virtual_to_physical(const void* address);

// Replaces the boot page tables; called once on the BSP.
void paging_initialize(uint64_t highest_physical_address);
// Loads the kernel page tables and paging features on an AP.
void paging_install_on_this_cpu();
uint64_t kernel_page_table_root();

ErrorOr<void> map_page(uint64_t virtual_address, uint64_t physical_address, PageAttributes attributes);
ErrorOr<void> unmap_page(uint64_t virtual_address);
// The physical address `virtual_address` maps to, or ENOENT.
ErrorOr<uint64_t> translate(uint64_t virtual_address);
bool is_mapped(uint64_t virtual_address);
// Which of write/execute a mapped page allows (for the paging selftests).
ErrorOr<PageAttributes> query_attributes(uint64_t virtual_address);

// Maps device registers uncached into the MMIO window.
ErrorOr<volatile void*> map_mmio(uint64_t physical_address, size_t size);

// Identity-maps the low 2 MiB (for the AP trampoline) and removes it again.
ErrorOr<void> identity_map_low_memory();
void remove_low_identity_map();

// Selftests only: the page-table allocation after the next `successes`
// ones fails with ENOMEM (once), so error paths can be checked for leaks.
void paging_inject_table_allocation_failure(int successes);

struct PagingFeatures {
    bool nx;
    bool smep;
    bool smap;
};
PagingFeatures paging_features();

} // namespace tessera::arch
