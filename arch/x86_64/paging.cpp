#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/tlb.h>
#include <kernel/console/console.h>
#include <kernel/console/panic.h>
#include <kernel/lib/checked.h>
#include <kernel/lib/string.h>
#include <kernel/locking/spinlock.h>
#include <kernel/memory/physical.h>

extern "C" {
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __kernel_end[];
extern char boot_stack_guard[];
}

namespace tessera::arch {

namespace {

// Page table entry bits. [intel/vol3]: table 4-19 and 4-20.
constexpr uint64_t pte_present = 1ull << 0;
constexpr uint64_t pte_writable = 1ull << 1;
constexpr uint64_t pte_write_through = 1ull << 3;
constexpr uint64_t pte_cache_disable = 1ull << 4;
constexpr uint64_t pte_huge = 1ull << 7;
constexpr uint64_t pte_global = 1ull << 8;
constexpr uint64_t pte_no_execute = 1ull << 63;
constexpr uint64_t pte_address_mask = 0x000ffffffffff000ull;
constexpr uint64_t huge_page_size = 2ull << 20;

constinit Spinlock<LockRank::PageTables> s_page_table_lock;
constinit uint64_t s_kernel_root = 0; // physical address of the PML4
constinit PagingFeatures s_features {};
constinit uint64_t s_mmio_next TA_GUARDED_BY(s_page_table_lock) = MMIO_WINDOW_BASE;
// Table allocations left before an injected failure; -1: none armed.
constinit kstd::atomic<int> s_table_allocations_before_failure { -1 };

uint64_t* table_at(uint64_t physical) { return static_cast<uint64_t*>(physical_to_virtual(physical)); }

size_t index_of(uint64_t virtual_address, int level) { return (virtual_address >> (12 + 9 * level)) & 0x1ff; }

uint64_t nx_bit(bool executable) { return (!executable && s_features.nx) ? pte_no_execute : 0; }

ErrorOr<uint64_t> allocate_table()
{
    int left = s_table_allocations_before_failure.load(kstd::memory_order_relaxed);
    if (left == 0) {
        s_table_allocations_before_failure.store(-1, kstd::memory_order_relaxed);
        return Error(Errno::NOMEM, "injected page-table allocation failure");
    }
    if (left > 0)
        s_table_allocations_before_failure.store(left - 1, kstd::memory_order_relaxed);
    uint64_t physical = TRY(allocate_physical_page());
    memset(table_at(physical), 0, page_size);
    return physical;
}

// Returns the level-0 (page table) entry for `virtual_address`, creating
// intermediate tables when `create`. Fails with EEXIST over a 2 MiB page.
ErrorOr<uint64_t*> walk(uint64_t root, uint64_t virtual_address, bool create)
{
    uint64_t* table = table_at(root);
    for (int level = 3; level > 0; --level) {
        uint64_t& entry = table[index_of(virtual_address, level)];
        if ((entry & pte_present) == 0) {
            if (!create)
                return Error(Errno::NOENT, "not mapped");
            // Intermediate entries are permissive; the leaf decides.
            entry = TRY(allocate_table()) | pte_present | pte_writable;
        } else if ((entry & pte_huge) != 0) {
            return Error(Errno::EXIST, "inside a huge page");
        }
        table = table_at(entry & pte_address_mask);
    }
    return &table[index_of(virtual_address, 0)];
}

uint64_t leaf_flags(PageAttributes attributes)
{
    uint64_t flags = pte_present | pte_global | nx_bit(attributes.executable);
    if (attributes.writable)
        flags |= pte_writable;
    if (attributes.uncached)
        flags |= pte_cache_disable | pte_write_through;
    return flags;
}

void map_kernel_range(uint64_t root, const char* start, const char* end, PageAttributes attributes)
{
    auto first = reinterpret_cast<uint64_t>(start);
    auto last = reinterpret_cast<uint64_t>(end);
    for (uint64_t va = first; va < last; va += page_size) {
        if (va == reinterpret_cast<uint64_t>(boot_stack_guard))
            continue; // the guard page stays unmapped
        uint64_t* entry = MUST(walk(root, va, true));
        *entry = (va - KERNEL_VIRTUAL_BASE) | leaf_flags(attributes);
    }
}

void map_physmap(uint64_t root, uint64_t limit)
{
    for (uint64_t physical = 0; physical < limit; physical += huge_page_size) {
        uint64_t va = PHYSMAP_BASE + physical;
        uint64_t* table = table_at(root);
        for (int level = 3; level > 1; --level) {
            uint64_t& entry = table[index_of(va, level)];
            if ((entry & pte_present) == 0)
                entry = MUST(allocate_table()) | pte_present | pte_writable;
            table = table_at(entry & pte_address_mask);
        }
        table[index_of(va, 1)] = physical | pte_present | pte_writable | pte_huge | pte_global | nx_bit(false);
    }
}

void enable_features_on_this_cpu()
{
    uint64_t cr4 = read_cr4() | cr4::pge;
    if (s_features.smep)
        cr4 |= cr4::smep;
    if (s_features.smap)
        cr4 |= cr4::smap;
    write_cr4(cr4);
    if (s_features.nx)
        write_msr(msr::efer, read_msr(msr::efer) | (1u << 11));
}

} // namespace

uint64_t virtual_to_physical(const void* address)
{
    auto va = reinterpret_cast<uint64_t>(address);
    if (va >= KERNEL_VIRTUAL_BASE)
        return va - KERNEL_VIRTUAL_BASE;
    VERIFY(va >= PHYSMAP_BASE && va < MMIO_WINDOW_BASE);
    return va - PHYSMAP_BASE;
}

PagingFeatures paging_features() { return s_features; }

void paging_inject_table_allocation_failure(int successes)
{
    s_table_allocations_before_failure.store(successes, kstd::memory_order_relaxed);
}
uint64_t kernel_page_table_root() { return s_kernel_root; }

void paging_initialize(uint64_t highest_physical_address)
{
    auto cpu = detect_cpu_features();
    s_features = { cpu.nx, cpu.smep, cpu.smap };
    uint64_t root = MUST(allocate_table());

    // All RAM, and at least the low 4 GiB where firmware tables live.
    uint64_t limit = highest_physical_address > BOOT_PHYSMAP_SIZE ? highest_physical_address : BOOT_PHYSMAP_SIZE;
    limit = (limit + huge_page_size - 1) & ~(huge_page_size - 1);
    map_physmap(root, limit);

    map_kernel_range(root, __text_start, __text_end, { .writable = false, .executable = true });
    map_kernel_range(root, __rodata_start, __rodata_end, { .writable = false, .executable = false });
    map_kernel_range(root, __data_start, __kernel_end, { .writable = true, .executable = false });

    // Pre-create every upper-half PML4 slot so later address spaces can share
    // the kernel half by copying 256 entries once.
    uint64_t* pml4 = table_at(root);
    for (size_t i = 256; i < 512; ++i) {
        if ((pml4[i] & pte_present) == 0)
            pml4[i] = MUST(allocate_table()) | pte_present | pte_writable;
    }

    s_kernel_root = root;
    enable_features_on_this_cpu();
    write_cr3(root);
    dbgln_if(CONFIG_PAGING_DEBUG, "paging: physmap of %llu MiB, root at %#llx",
        static_cast<unsigned long long>(limit >> 20), static_cast<unsigned long long>(root));
}

void paging_install_on_this_cpu()
{
    enable_features_on_this_cpu();
    write_cr3(s_kernel_root);
}

ErrorOr<void> map_page(uint64_t virtual_address, uint64_t physical_address, PageAttributes attributes)
{
    if ((virtual_address | physical_address) & (page_size - 1))
        return Error(Errno::INVAL, "unaligned mapping");
    SpinlockGuard guard(s_page_table_lock);
    uint64_t* entry = TRY(walk(s_kernel_root, virtual_address, true));
    if ((*entry & pte_present) != 0)
        return Error(Errno::EXIST, "already mapped");
    *entry = physical_address | leaf_flags(attributes);
    return {};
}

namespace {

// Clears the leaf of `virtual_address` and this CPU's TLB entry for it; the
// caller shoots down the other CPUs after dropping the lock.
ErrorOr<void> clear_leaf(uint64_t virtual_address)
{
    uint64_t* entry = TRY(walk(s_kernel_root, virtual_address, false));
    if ((*entry & pte_present) == 0)
        return Error(Errno::NOENT, "not mapped");
    *entry = 0;
    invalidate_page(virtual_address);
    return {};
}

} // namespace

ErrorOr<void> unmap_page(uint64_t virtual_address)
{
    {
        SpinlockGuard guard(s_page_table_lock);
        TRY(clear_leaf(virtual_address));
    }
    // Outside the lock, with interrupts as the caller had them (see <arch/tlb.h>).
    tlb_shootdown();
    return {};
}

namespace {

// Lock-free read-only walk (also used by the panic path).
ErrorOr<uint64_t> find_leaf(uint64_t virtual_address, uint64_t& page_mask)
{
    uint64_t root = s_kernel_root != 0 ? s_kernel_root : (read_cr3() & pte_address_mask);
    uint64_t* table = table_at(root);
    for (int level = 3; level >= 0; --level) {
        uint64_t entry = table[index_of(virtual_address, level)];
        if ((entry & pte_present) == 0)
            return Error(Errno::NOENT, "not mapped");
        if (level == 0 || (entry & pte_huge) != 0) {
            page_mask = (1ull << (12 + 9 * level)) - 1;
            return entry;
        }
        table = table_at(entry & pte_address_mask);
    }
    return Error(Errno::NOENT, "not mapped");
}

} // namespace

ErrorOr<uint64_t> translate(uint64_t virtual_address)
{
    uint64_t mask = 0;
    uint64_t entry = TRY(find_leaf(virtual_address, mask));
    return (entry & pte_address_mask & ~mask) | (virtual_address & mask);
}

bool is_mapped(uint64_t virtual_address) { return !translate(virtual_address).is_error(); }

ErrorOr<PageAttributes> query_attributes(uint64_t virtual_address)
{
    uint64_t mask = 0;
    uint64_t entry = TRY(find_leaf(virtual_address, mask));
    return PageAttributes { .writable = (entry & pte_writable) != 0,
        .executable = (entry & pte_no_execute) == 0,
        .uncached = (entry & pte_cache_disable) != 0 };
}

ErrorOr<volatile void*> map_mmio(uint64_t physical_address, size_t size)
{
    uint64_t offset = physical_address & (page_size - 1);
    uint64_t first = physical_address - offset;
    uint64_t length = TRY(checked_align_up<uint64_t>(TRY(checked_add<uint64_t>(size, offset)), page_size));
    uint64_t base;
    {
        SpinlockGuard guard(s_page_table_lock);
        if (s_mmio_next + length > MMIO_WINDOW_BASE + MMIO_WINDOW_SIZE)
            return Error(Errno::NOMEM, "MMIO window full");
        base = s_mmio_next;
        s_mmio_next += length;
    }
    for (uint64_t done = 0; done < length; done += page_size) {
        auto mapped = map_page(base + done, first + done, { .writable = true, .executable = false, .uncached = true });
        if (!mapped.is_error())
            continue;
        // Undo: unmap what was mapped, and give the window back if nothing
        // was placed after it meanwhile (else those pages of it stay unused).
        {
            SpinlockGuard guard(s_page_table_lock);
            for (uint64_t undo = 0; undo < done; undo += page_size)
                MUST(clear_leaf(base + undo));
            if (s_mmio_next == base + length)
                s_mmio_next = base;
        }
        if (done != 0)
            tlb_shootdown();
        return mapped.release_error();
    }
    return reinterpret_cast<volatile void*>(base + offset);
}

ErrorOr<void> identity_map_low_memory()
{
    SpinlockGuard guard(s_page_table_lock);
    uint64_t* pml4 = table_at(s_kernel_root);
    if ((pml4[0] & pte_present) != 0)
        return Error(Errno::EXIST, "low memory already mapped");
    uint64_t pdpt = TRY(allocate_table());
    auto pd_or_error = allocate_table();
    if (pd_or_error.is_error()) {
        MUST(free_physical_page(pdpt));
        return pd_or_error.release_error();
    }
    uint64_t pd = pd_or_error.value();
    table_at(pd)[0] = 0 | pte_present | pte_writable | pte_huge;
    table_at(pdpt)[0] = pd | pte_present | pte_writable;
    pml4[0] = pdpt | pte_present | pte_writable;
    return {};
}

void remove_low_identity_map()
{
    uint64_t pdpt;
    uint64_t pd;
    {
        SpinlockGuard guard(s_page_table_lock);
        uint64_t* pml4 = table_at(s_kernel_root);
        if ((pml4[0] & pte_present) == 0)
            return;
        pdpt = pml4[0] & pte_address_mask;
        pd = table_at(pdpt)[0] & pte_address_mask;
        pml4[0] = 0;
    }
    // The APs walked these tables and may hold them in their paging-structure
    // caches ([intel/vol3]: 4.10.4.1); only after every CPU has dropped those
    // may the pages be reused.
    tlb_shootdown();
    MUST(free_physical_page(pd));
    MUST(free_physical_page(pdpt));
}

} // namespace tessera::arch
