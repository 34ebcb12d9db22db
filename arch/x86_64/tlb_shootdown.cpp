#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/per_cpu.h>
#include <arch/tlb.h>
#include <kernel/console/panic.h>
#include <kernel/irq/irq.h>
#include <kernel/time/clock.h>

namespace tessera::arch {

namespace {

// Generations instead of a lock: the initiator publishes a new generation
// after its page-table change, and a CPU that flushes after reading
// generation g has dropped every translation removed before g. Concurrent
// initiators need no serialization, so none can wait on another's lock.
constinit kstd::atomic<uint64_t> s_requested_generation { 0 };
constinit kstd::atomic<bool> s_initialized { false };

// Long enough for a vCPU the host deschedules under TCG, short enough that
// a wedged CPU is named instead of hanging the boot.
constexpr uint64_t acknowledge_timeout_ns = 2 * ns_per_second;

// Toggling CR4.PGE drops all TLB entries, global ones included, and the
// paging-structure caches. [intel/vol3]: 4.10.4.1.
void flush_this_cpu()
{
    uint64_t cr4 = read_cr4();
    write_cr4(cr4 & ~cr4::pge);
    write_cr4(cr4);
}

// kernel/irq sends the EOI after the handler.
void tlb_shootdown_interrupt(void*)
{
    uint64_t generation = s_requested_generation.load(kstd::memory_order_acquire);
    flush_this_cpu();
    this_cpu().tlb_generation_flushed.store(generation, kstd::memory_order_release);
}

} // namespace

void tlb_shootdown_initialize()
{
    if (irq_register_fixed(vector::tlb_shootdown_ipi, "tlb shootdown", tlb_shootdown_interrupt, nullptr).is_error())
        panic("TLB shootdown: its IPI vector is taken");
    s_initialized.store(true, kstd::memory_order_release);
}

void tlb_shootdown()
{
    uint32_t me = current_cpu_index();
    uint64_t targets = 0;
    for (size_t i = 0; i < cpu_count(); ++i) {
        if (cpu_at(i).local.online.load(kstd::memory_order_acquire))
            targets |= 1ull << i;
    }
    if (!s_initialized.load(kstd::memory_order_acquire) || (targets & ~(1ull << me)) == 0) {
        // Nobody else can hold the translation, and with no other CPU
        // online this code cannot migrate.
        bool enabled = save_and_disable_interrupts();
        flush_this_cpu();
        restore_interrupts(enabled);
        return;
    }
    VERIFY(interrupts_enabled());
    uint64_t generation = s_requested_generation.fetch_add(1, kstd::memory_order_acq_rel) + 1;
    // This CPU too, through its own IPI: the caller may migrate between the
    // page-table change and here, and every CPU it ran on must flush.
    for (size_t i = 0; i < max_cpus; ++i) {
        if ((targets & (1ull << i)) != 0)
            lapic_send_ipi(cpu_at(i).apic_id, vector::tlb_shootdown_ipi);
    }
    uint64_t deadline = uptime_ns() + acknowledge_timeout_ns;
    for (size_t i = 0; i < max_cpus; ++i) {
        if ((targets & (1ull << i)) == 0)
            continue;
        const PerCpu& cpu = cpu_at(i);
        while (cpu.tlb_generation_flushed.load(kstd::memory_order_acquire) < generation) {
            if (uptime_ns() > deadline)
                panic("TLB shootdown: CPU %zu (APIC id %u) did not acknowledge generation %llu within %llu ms", i,
                    cpu.apic_id, static_cast<unsigned long long>(generation),
                    static_cast<unsigned long long>(acknowledge_timeout_ns / 1000000));
            relax();
        }
    }
}

} // namespace tessera::arch
