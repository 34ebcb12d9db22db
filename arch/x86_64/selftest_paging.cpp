// Selftests of the kernel page tables (arch/x86_64/include/arch/paging.h):
// the per-section permissions of the kernel image, the no-execute physmap,
// guard pages under kernel stacks, map/translate/unmap, and the CPU paging
// features. Writes that must fault go through probe_write(), which turns the
// page fault into a `false` return instead of a panic.

#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/paging.h>
#include <arch/per_cpu.h>
#include <kernel/console/console.h>
#include <kernel/memory/kernel_stack.h>
#include <kernel/memory/physical.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/selftest.h>

extern "C" {
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __bss_start[], __kernel_end[];
extern char boot_stack_guard[];
}

namespace tessera {

namespace {

// The map/unmap case's scratch page: the last page of the MMIO window.
// map_mmio() hands out that window bottom-up from MMIO_WINDOW_BASE, so it
// would have to place a gigabyte of device mappings before reaching this
// page; nothing else maps there. The page-table pages created on the way
// stay (harmless, a couple of pages).
constexpr uint64_t scratch_virtual = MMIO_WINDOW_BASE + MMIO_WINDOW_SIZE - page_size;
constexpr uint64_t huge_page_size = 2ull << 20;

// Objects of known sections; volatile so the compiler keeps every access.
constexpr uint8_t s_rodata_bytes[64] = { 0x52, 0x4f, 0x44, 0x41, 0x54, 0x41 };
volatile uint64_t s_data_word = 0xda7a;
volatile uint64_t s_bss_word;

// Never called: only its first byte is a probe target.
[[gnu::noinline, gnu::used]] void text_probe_target() { asm volatile("" ::: "memory"); }

// The errno of a result, or 0 for success (comparable with KEXPECT_EQ
// without calling error() on a success, which would VERIFY).
template<typename T>
int errno_of(const ErrorOr<T>& result)
{
    return result.is_error() ? static_cast<int>(result.error().code()) : 0;
}

uint64_t address(const volatile void* pointer) { return reinterpret_cast<uint64_t>(pointer); }

bool inside(uint64_t value, const char* start, const char* end)
{
    return value >= address(start) && value < address(end);
}

// A write of a different value to `target` faults and leaves it unchanged.
// If the write unexpectedly lands, the old byte is put back at once.
void expect_write_faults(volatile uint8_t* target)
{
    uint8_t old_value = *target;
    bool written = arch::probe_write(target, static_cast<uint8_t>(~old_value));
    if (written)
        *target = old_value;
    KEXPECT(!written);
    KEXPECT_EQ(*target, old_value);
}

// Runs `body` in a thread pinned to `cpu` and waits for it, so a body that
// touches TLB state sees one CPU's TLB throughout.
bool run_pinned(uint32_t cpu, void (*body)(void*), void* argument)
{
    auto thread = Thread::try_create("paging-pinned", body, argument, static_cast<int>(cpu));
    if (thread.is_error())
        return false;
    thread.value()->join();
    return true;
}

void kernel_text_read_only_executable()
{
    for (uint64_t va :
        { address(__text_start), reinterpret_cast<uint64_t>(&text_probe_target), address(__text_end) - 1 }) {
        KEXPECT(inside(va, __text_start, __text_end));
        auto attributes = KMUST(arch::query_attributes(va));
        KEXPECT(!attributes.writable);
        KEXPECT(attributes.executable);
        KEXPECT(!attributes.uncached);
        KEXPECT_EQ(KMUST(arch::translate(va)), va - KERNEL_VIRTUAL_BASE);
    }
    KEXPECT(arch::probe_read(reinterpret_cast<volatile uint8_t*>(&text_probe_target)));
    expect_write_faults(reinterpret_cast<volatile uint8_t*>(&text_probe_target));
}

void rodata_read_only_no_execute()
{
    KEXPECT(inside(address(s_rodata_bytes), __rodata_start, __rodata_end));
    for (uint64_t va : { address(__rodata_start), address(s_rodata_bytes), address(__rodata_end) - 1 }) {
        auto attributes = KMUST(arch::query_attributes(va));
        KEXPECT(!attributes.writable);
        KEXPECT(!attributes.executable);
        KEXPECT_EQ(KMUST(arch::translate(va)), va - KERNEL_VIRTUAL_BASE);
    }
    auto* target = const_cast<volatile uint8_t*>(&s_rodata_bytes[0]);
    KEXPECT(arch::probe_read(target));
    expect_write_faults(target);
    KEXPECT_EQ(*target, 0x52);
}

void data_writable_no_execute()
{
    KEXPECT(inside(address(&s_data_word), __data_start, __bss_start));
    KEXPECT(inside(address(&s_bss_word), __bss_start, __kernel_end));
    for (uint64_t va :
        { address(__data_start), address(&s_data_word), address(&s_bss_word), address(__kernel_end) - 1 }) {
        auto attributes = KMUST(arch::query_attributes(va));
        KEXPECT(attributes.writable);
        KEXPECT_EQ(attributes.executable, !arch::paging_features().nx);
    }
    auto* data = reinterpret_cast<volatile uint8_t*>(&s_data_word);
    KEXPECT(arch::probe_write(data, 0x5a));
    KEXPECT_EQ(s_data_word, 0xda5au);
    auto* bss = reinterpret_cast<volatile uint8_t*>(&s_bss_word);
    KEXPECT(arch::probe_write(bss, 0xa5));
    KEXPECT_EQ(s_bss_word, 0xa5u);
}

void physmap_no_execute()
{
    uint64_t page = KMUST(allocate_physical_page());
    uint64_t samples[] = { page, page + 0x123, KERNEL_PHYSICAL_LOAD, 0x200000 + 0x456 };
    for (uint64_t physical : samples) {
        uint64_t va = address(arch::physical_to_virtual(physical));
        auto attributes = arch::query_attributes(va);
        KEXPECT(!attributes.is_error());
        if (attributes.is_error())
            continue;
        KEXPECT(attributes.value().writable);
        KEXPECT_EQ(attributes.value().executable, !arch::paging_features().nx);
        KEXPECT_EQ(KMUST(arch::translate(va)), physical);
    }
    // The physmap and the kernel image alias the same frame.
    uint64_t text_physical = arch::virtual_to_physical(__text_start);
    auto* alias = static_cast<volatile uint8_t*>(arch::physical_to_virtual(text_physical));
    KEXPECT_EQ(*alias, *reinterpret_cast<volatile uint8_t*>(__text_start));
    auto* writable = static_cast<volatile uint8_t*>(arch::physical_to_virtual(page));
    KEXPECT(arch::probe_write(writable, 0x33));
    KEXPECT_EQ(*writable, 0x33);
    KEXPECT(!free_physical_page(page).is_error());
}

void expect_guard_unmapped(uint64_t guard, uint64_t bottom)
{
    KEXPECT_EQ(guard % page_size, 0u);
    KEXPECT_EQ(guard + page_size, bottom);
    KEXPECT(!arch::is_mapped(guard));
    auto* first = reinterpret_cast<volatile uint8_t*>(guard);
    auto* last = reinterpret_cast<volatile uint8_t*>(guard + page_size - 1);
    KEXPECT(!arch::probe_read(first));
    KEXPECT(!arch::probe_read(last));
    KEXPECT(!arch::probe_write(last, 0));
    // The stack itself starts right above, mapped writable and no-execute.
    auto attributes = KMUST(arch::query_attributes(bottom));
    KEXPECT(attributes.writable);
    KEXPECT_EQ(attributes.executable, !arch::paging_features().nx);
    KEXPECT(arch::probe_read(reinterpret_cast<volatile uint8_t*>(bottom)));
}

void kernel_stack_guard_pages_fault()
{
    // This case's own stack, which it is running on.
    const KernelStack& own = current_thread().stack();
    uint64_t rsp;
    asm volatile("movq %%rsp, %0" : "=r"(rsp));
    KEXPECT(rsp >= own.bottom && rsp < own.top);
    KEXPECT(own.bottom >= KERNEL_STACKS_BASE && own.top <= KERNEL_STACKS_BASE + KERNEL_STACKS_SIZE);
    expect_guard_unmapped(kernel_stack_guard_page(own), own.bottom);

    // A fresh stack, and the boot stack's guard from the linker script.
    KernelStack fresh = KMUST(kernel_stack_allocate());
    KEXPECT_EQ(fresh.top - fresh.bottom, kernel_stack_size);
    expect_guard_unmapped(kernel_stack_guard_page(fresh), fresh.bottom);
    kernel_stack_free(fresh);
    KEXPECT(!arch::is_mapped(address(boot_stack_guard)));
    KEXPECT(!arch::probe_read(reinterpret_cast<volatile uint8_t*>(boot_stack_guard)));
}

void map_round_trip_on_this_cpu(void*)
{
    KEXPECT(!arch::is_mapped(scratch_virtual));
    uint64_t physical = KMUST(allocate_physical_page());
    auto* through_physmap = static_cast<volatile uint64_t*>(arch::physical_to_virtual(physical));
    *through_physmap = 0x0123456789abcdefull;

    KEXPECT_EQ(
        errno_of(arch::map_page(scratch_virtual + 8, physical, { .writable = true })), static_cast<int>(Errno::INVAL));
    auto mapped = arch::map_page(scratch_virtual, physical, { .writable = true, .executable = false });
    KEXPECT(!mapped.is_error());
    if (!mapped.is_error()) {
        KEXPECT(arch::is_mapped(scratch_virtual));
        KEXPECT_EQ(KMUST(arch::translate(scratch_virtual + 0x10)), physical + 0x10);
        auto attributes = KMUST(arch::query_attributes(scratch_virtual));
        KEXPECT(attributes.writable);
        KEXPECT_EQ(attributes.executable, !arch::paging_features().nx);
        // Both views reach the same frame, in both directions.
        auto* through_scratch = reinterpret_cast<volatile uint64_t*>(scratch_virtual);
        KEXPECT_EQ(*through_scratch, 0x0123456789abcdefull);
        *through_scratch = 0xfeedfacecafef00dull;
        KEXPECT_EQ(*through_physmap, 0xfeedfacecafef00dull);
        // A second mapping over it is refused and changes nothing.
        KEXPECT_EQ(errno_of(arch::map_page(scratch_virtual, 0x200000, {})), static_cast<int>(Errno::EXIST));
        KEXPECT_EQ(KMUST(arch::translate(scratch_virtual)), physical);

        KEXPECT(!arch::unmap_page(scratch_virtual).is_error());
        KEXPECT(!arch::is_mapped(scratch_virtual));
        KEXPECT(!arch::probe_read(reinterpret_cast<volatile uint8_t*>(scratch_virtual)));
        KEXPECT_EQ(errno_of(arch::unmap_page(scratch_virtual)), static_cast<int>(Errno::NOENT));
        KEXPECT_EQ(errno_of(arch::translate(scratch_virtual)), static_cast<int>(Errno::NOENT));
    }
    KEXPECT(!free_physical_page(physical).is_error());
}

void map_translate_unmap_round_trip()
{
    // Pinned, so the unmap's local TLB flush covers every TLB that saw the page.
    KEXPECT(run_pinned(0, map_round_trip_on_this_cpu, nullptr));
}

struct ControlRegisters {
    uint64_t cr0;
    uint64_t cr4;
    uint64_t efer;
    uint32_t cpu_index;
};

void read_control_registers(void* argument)
{
    auto& registers = *static_cast<ControlRegisters*>(argument);
    registers.cr0 = arch::read_cr0();
    registers.cr4 = arch::read_cr4();
    registers.efer = arch::read_msr(arch::msr::efer);
    registers.cpu_index = arch::this_cpu().local.index;
}

// paging_features() agrees with CPUID, and every CPU runs with what the CPU
// has: SMEP, SMAP and NX on when available, CR0.WP always (without it ring
// 0 could write the read-only text).
void paging_features_enabled_on_every_cpu()
{
    auto features = arch::paging_features();
    auto extended = arch::cpuid(0x80000001);
    bool cpuid_nx = (extended.edx & (1u << 20)) != 0;
    bool cpuid_smep = false;
    bool cpuid_smap = false;
    if (arch::cpuid(0).eax >= 7) {
        auto leaf7 = arch::cpuid(7, 0);
        cpuid_smep = (leaf7.ebx & (1u << 7)) != 0;
        cpuid_smap = (leaf7.ebx & (1u << 20)) != 0;
    }
    KEXPECT_EQ(features.nx, cpuid_nx);
    KEXPECT_EQ(features.smep, cpuid_smep);
    KEXPECT_EQ(features.smap, cpuid_smap);
    console_print("    # cpu has nx=%d smep=%d smap=%d\n", features.nx, features.smep, features.smap);

    constexpr uint64_t cr0_wp = 1u << 16;
    constexpr uint64_t efer_nxe = 1u << 11;
    for (size_t cpu = 0; cpu < arch::cpu_count(); ++cpu) {
        ControlRegisters registers {};
        KEXPECT(run_pinned(static_cast<uint32_t>(cpu), read_control_registers, &registers));
        KEXPECT_EQ(registers.cpu_index, cpu);
        KEXPECT((registers.cr0 & cr0_wp) != 0);
        KEXPECT_EQ((registers.cr4 & arch::cr4::smep) != 0, features.smep);
        KEXPECT_EQ((registers.cr4 & arch::cr4::smap) != 0, features.smap);
        KEXPECT_EQ((registers.efer & efer_nxe) != 0, features.nx);
    }
}

uint64_t free_pages() { return physical_memory_stats().free_pages; }

// identity_map_low_memory() needs two new tables; when the second cannot be
// had, the first goes back, and a successful map and removal give both back.
// (The boot-time identity map is gone once the APs are up.)
void identity_map_failure_leaks_nothing()
{
    uint64_t before = free_pages();
    arch::paging_inject_table_allocation_failure(1);
    KEXPECT_EQ(errno_of(arch::identity_map_low_memory()), static_cast<int>(Errno::NOMEM));
    arch::paging_inject_table_allocation_failure(-1);
    KEXPECT_EQ(free_pages(), before);
    KEXPECT(!arch::is_mapped(0x1000));

    KEXPECT(!arch::identity_map_low_memory().is_error());
    KEXPECT(arch::is_mapped(0x1000));
    KEXPECT_EQ(free_pages(), before - 2);
    arch::remove_low_identity_map();
    KEXPECT(!arch::is_mapped(0x1000));
    KEXPECT_EQ(free_pages(), before);
}

// A map_mmio() that fails part-way (here: no page table for the part past a
// 2 MiB boundary) unmaps what it mapped and hands its window back.
void map_mmio_failure_unmaps_and_returns_window()
{
    uint64_t physical = KMUST(allocate_physical_page());
    // One page first, so the window's current page table exists; then the
    // next page must not start a new table.
    auto first = reinterpret_cast<uint64_t>(KMUST(arch::map_mmio(physical, page_size)));
    uint64_t next = first + page_size;
    if ((next & (huge_page_size - 1)) == 0) {
        next = reinterpret_cast<uint64_t>(KMUST(arch::map_mmio(physical, page_size))) + page_size;
        KEXPECT((next & (huge_page_size - 1)) != 0);
    }
    arch::paging_inject_table_allocation_failure(0);
    auto failed = arch::map_mmio(physical, huge_page_size + page_size);
    arch::paging_inject_table_allocation_failure(-1);
    KEXPECT_EQ(errno_of(failed), static_cast<int>(Errno::NOMEM));
    KEXPECT(!arch::is_mapped(next));
    KEXPECT(!arch::is_mapped(next + huge_page_size - (next & (huge_page_size - 1)) - page_size));
    // The window did not move on.
    auto again = reinterpret_cast<uint64_t>(KMUST(arch::map_mmio(physical, page_size)));
    KEXPECT_EQ(again, next);
    // The few window pages mapped here stay (map_mmio has no unmap); the
    // page they point at is never touched through them.
    KEXPECT(!free_physical_page(physical).is_error());
}

} // namespace

SELFTEST_SUITE(arch_paging, CONFIG_PAGING_SELFTEST, SELFTEST_CASE(kernel_text_read_only_executable),
    SELFTEST_CASE(rodata_read_only_no_execute), SELFTEST_CASE(data_writable_no_execute),
    SELFTEST_CASE(physmap_no_execute), SELFTEST_CASE(kernel_stack_guard_pages_fault),
    SELFTEST_CASE(map_translate_unmap_round_trip), SELFTEST_CASE(paging_features_enabled_on_every_cpu),
    SELFTEST_CASE(identity_map_failure_leaks_nothing), SELFTEST_CASE(map_mmio_failure_unmaps_and_returns_window));

} // namespace tessera
