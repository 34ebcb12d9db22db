// The IRQ layer on the real LAPIC: an allocated vector raised by a self-IPI
// runs its handler with its context; a vector nobody owns is counted as
// unclaimed, the LAPIC's spurious vector as spurious; fixed vectors are
// guarded.
#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/per_cpu.h>
#include <kernel/irq/irq.h>
#include <kernel/selftest/selftest.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

struct Probe {
    kstd::atomic<uint32_t> calls { 0 };
    kstd::atomic<void*> seen_context { nullptr };
};

void probe_handler(void* context)
{
    auto* probe = static_cast<Probe*>(context);
    probe->seen_context.store(context);
    probe->calls.fetch_add(1);
}

// Interrupts are on in a selftest thread, so the IPI arrives at once; the
// wait only covers a slow emulator.
template<typename Condition>
bool wait_for(Condition condition)
{
    uint64_t deadline = uptime_ns() + 500 * ns_per_ms;
    while (!condition() && uptime_ns() < deadline)
        arch::relax();
    return condition();
}

void allocated_vector_runs_handler_with_context()
{
    Probe probe;
    IrqTarget target = KMUST(irq_allocate("selftest", probe_handler, &probe));
    KEXPECT(target.vector >= arch::vector::first_device && target.vector <= arch::vector::last_device);
    KEXPECT_EQ(target.destination_apic_id, arch::cpu_at(0).apic_id);
    arch::lapic_send_self_ipi(target.vector);
    KEXPECT(wait_for([&] { return probe.calls.load() == 1; }));
    KEXPECT(probe.seen_context.load() == &probe);
    // A second allocation gets another vector.
    Probe other;
    IrqTarget second = KMUST(irq_allocate("selftest2", probe_handler, &other));
    KEXPECT(second.vector != target.vector);
    irq_free(second.vector);
    irq_free(target.vector);
}

void unregistered_vector_counts_as_unclaimed()
{
    Probe probe;
    // Allocate and free: a device vector that surely has no handler now.
    IrqTarget target = KMUST(irq_allocate("selftest", probe_handler, &probe));
    irq_free(target.vector);
    uint64_t before = irq_unclaimed_count();
    arch::lapic_send_self_ipi(target.vector);
    KEXPECT(wait_for([&] { return irq_unclaimed_count() == before + 1; }));
    KEXPECT_EQ(probe.calls.load(), 0u);
    // EOI was sent: a second one arrives too.
    arch::lapic_send_self_ipi(target.vector);
    KEXPECT(wait_for([&] { return irq_unclaimed_count() == before + 2; }));
}

void spurious_vector_is_counted()
{
    uint64_t before = irq_spurious_count();
    asm volatile("int $0xff");
    KEXPECT_EQ(irq_spurious_count(), before + 1);
}

void fixed_vectors_are_guarded()
{
    Probe probe;
    auto taken = irq_register_fixed(arch::vector::timer, "again", probe_handler, &probe);
    KEXPECT(taken.is_error() && taken.error().code() == Errno::BUSY);
    auto device = irq_register_fixed(arch::vector::first_device, "device", probe_handler, &probe);
    KEXPECT(device.is_error() && device.error().code() == Errno::INVAL);
    // Run alone right after boot (tessera.selftest=irq_core, one CPU), the
    // case can come before the first tick: wait for one.
    auto timer_listed = [] {
        IrqInfo vectors[32];
        size_t count = irq_list(vectors, 32);
        bool listed = false;
        for (size_t i = 0; i < count && i < 32; ++i)
            listed |= vectors[i].vector == arch::vector::timer && vectors[i].count > 0;
        return listed;
    };
    KEXPECT(wait_for(timer_listed));
}

// Stands for a driver's device state: the handler must not touch it once
// irq_free() has returned and the driver has torn it down.
struct SlowProbe {
    kstd::atomic<bool> entered { false };
    kstd::atomic<bool> alive { true };
    kstd::atomic<bool> used_after_free { false };
    kstd::atomic<bool> done { false };
};

void slow_handler(void* context)
{
    auto* probe = static_cast<SlowProbe*>(context);
    probe->entered.store(true);
    uint64_t until = uptime_ns() + 50 * ns_per_ms;
    while (uptime_ns() < until)
        arch::relax();
    if (!probe->alive.load())
        probe->used_after_free.store(true);
    probe->done.store(true);
}

// A driver frees its vector and then its state. irq_free() must not return
// while the handler still runs on another CPU.
void free_waits_for_a_running_handler()
{
    KSKIP_IF(arch::cpu_count() < 2, "only one CPU online");
    SlowProbe probe;
    IrqTarget target = KMUST(irq_allocate("selftest slow", slow_handler, &probe));
    bool interrupts = arch::save_and_disable_interrupts();
    uint32_t other = arch::current_cpu_index() == 0 ? 1 : 0;
    arch::lapic_send_ipi(arch::cpu_at(other).apic_id, target.vector);
    arch::restore_interrupts(interrupts);
    KEXPECT(wait_for([&] { return probe.entered.load(); }));
    irq_free(target.vector);
    probe.alive.store(false);
    KEXPECT(wait_for([&] { return probe.done.load(); }));
    KEXPECT(!probe.used_after_free.load());
}

} // namespace

SELFTEST_SUITE(irq_core, CONFIG_IRQ_SELFTEST, SELFTEST_CASE(allocated_vector_runs_handler_with_context),
    SELFTEST_CASE(unregistered_vector_counts_as_unclaimed), SELFTEST_CASE(spurious_vector_is_counted),
    SELFTEST_CASE(fixed_vectors_are_guarded), SELFTEST_CASE(free_waits_for_a_running_handler));

} // namespace tessera
