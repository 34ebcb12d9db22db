#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/paging.h>
#include <arch/per_cpu.h>
#include <arch/smp.h>
#include <arch/tlb.h>
#include <kernel/console/console.h>
#include <kernel/console/panic.h>
#include <kernel/lib/string.h>
#include <kernel/memory/physical.h>
#include <kernel/sched/scheduler.h>
#include <kernel/time/clock.h>

extern "C" {
extern char ap_trampoline_start[], ap_trampoline_end[], ap_parameters[];
extern char ap_gdt_offset[], ap_long_mode_offset[];
}

namespace tessera {
void ap_main(uint32_t cpu_index); // kernel/main.cpp
}

namespace tessera::arch {

namespace {

struct [[gnu::packed]] ApParameters {
    uint16_t gdt_limit;
    uint32_t gdt_base;
    uint16_t pad0;
    uint32_t far_offset;
    uint16_t far_selector;
    uint16_t pad1;
    uint32_t cr3;
    uint32_t efer_bits;
    uint64_t stack;
    uint64_t entry;
    uint64_t cpu_index;
};
static_assert(sizeof(ApParameters) == 48);

constinit Thread* s_ap_idle_threads[max_cpus] {};
constinit uint64_t s_trampoline_page = 0;

extern "C" [[noreturn]] void ap_entry(uint64_t cpu_index)
{
    auto index = static_cast<uint32_t>(cpu_index);
    install_per_cpu(index, 0);
    paging_install_on_this_cpu();
    gdt_install_on_this_cpu();
    idt_install_on_this_cpu();
    lapic_enable_on_this_cpu();
    this_cpu().apic_id = lapic_id();
    ap_main(index);
    this_cpu().local.online.store(true, kstd::memory_order_release);
    Scheduler::run_idle_on_this_cpu(*s_ap_idle_threads[index]);
}

} // namespace

void smp_reserve_trampoline_page()
{
    auto page = allocate_physical_page_below(0x100000);
    if (page.is_error())
        warnln("smp: no free page below 1 MiB for the AP trampoline; only the boot CPU will run");
    else
        s_trampoline_page = page.value();
}

size_t smp_start_application_processors(const uint8_t* apic_ids, size_t count)
{
    tlb_shootdown_initialize();
    uint32_t my_apic_id = lapic_id();
    size_t trampoline_size = static_cast<size_t>(ap_trampoline_end - ap_trampoline_start);
    VERIFY(trampoline_size <= page_size);
    if (s_trampoline_page == 0)
        return 0;
    uint64_t trampoline = s_trampoline_page;
    if (kernel_page_table_root() >= 0x100000000ull || identity_map_low_memory().is_error()) {
        warnln("smp: cannot map the AP trampoline; running on one CPU");
        (void)free_physical_page(trampoline);
        return 0;
    }
    memcpy(physical_to_virtual(trampoline), ap_trampoline_start, trampoline_size);
    auto* parameters = reinterpret_cast<ApParameters*>(
        static_cast<char*>(physical_to_virtual(trampoline)) + (ap_parameters - ap_trampoline_start));
    parameters->gdt_base = static_cast<uint32_t>(trampoline + reinterpret_cast<uint64_t>(ap_gdt_offset));
    parameters->far_offset = static_cast<uint32_t>(trampoline + reinterpret_cast<uint64_t>(ap_long_mode_offset));
    parameters->cr3 = static_cast<uint32_t>(kernel_page_table_root());
    parameters->efer_bits = (1u << 8) | (paging_features().nx ? (1u << 11) : 0);
    parameters->entry = reinterpret_cast<uint64_t>(&ap_entry);

    size_t started = 0;
    size_t next_index = 1;
    for (size_t i = 0; i < count && next_index < max_cpus; ++i) {
        if (apic_ids[i] == my_apic_id)
            continue;
        uint32_t index = static_cast<uint32_t>(next_index);
        auto idle = Scheduler::create_idle_thread(index);
        if (idle.is_error()) {
            warnln("smp: no memory for CPU %u's idle thread", index);
            break;
        }
        s_ap_idle_threads[index] = idle.value();
        parameters->stack = idle.value()->stack().top;
        parameters->cpu_index = index;
        asm volatile("mfence" ::: "memory");

        // INIT, then two STARTUPs. [intel/vol3]: 9.4.4.1 "Typical BSP initialization sequence".
        lapic_send_init(apic_ids[i]);
        busy_wait_us(10000);
        for (int attempt = 0; attempt < 2 && !cpu_at(index).local.online.load(kstd::memory_order_acquire); ++attempt) {
            lapic_send_startup(apic_ids[i], static_cast<uint8_t>(trampoline >> 12));
            busy_wait_us(200);
        }
        // Wait up to a second (emulation is slow) for the AP to check in.
        uint64_t deadline = uptime_ns() + 1000000000ull;
        while (!cpu_at(index).local.online.load(kstd::memory_order_acquire) && uptime_ns() < deadline)
            relax();
        if (!cpu_at(index).local.online.load(kstd::memory_order_acquire)) {
            // Park it in wait-for-SIPI so it cannot wake up late in a
            // trampoline that is gone, and never reuse its index or stack.
            lapic_send_init(apic_ids[i]);
            warnln("smp: CPU with APIC id %u did not start", apic_ids[i]);
            ++next_index;
            continue;
        }
        dbgln_if(CONFIG_SMP_DEBUG, "smp: CPU %u (APIC id %u) online", index, apic_ids[i]);
        ++started;
        ++next_index;
    }
    // Indices of CPUs that failed to start stay unused (offline) below this count.
    set_cpu_count(next_index);
    remove_low_identity_map();
    (void)free_physical_page(trampoline);
    return started;
}

void send_reschedule_ipi(uint32_t cpu_index) { lapic_send_ipi(cpu_at(cpu_index).apic_id, vector::reschedule_ipi); }

} // namespace tessera::arch
