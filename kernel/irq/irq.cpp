#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/per_cpu.h>
#include <kernel/console/panic.h>
#include <kernel/irq/irq.h>
#include <kernel/locking/spinlock.h>
#include <kernel/sched/scheduler.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

// One vector. The handler is published last (release) so that a dispatch
// that sees it also sees its context and name.
struct Slot {
    kstd::atomic<IrqHandler> handler;
    void* context;
    const char* name;
    kstd::atomic<uint64_t> count;
    // Dispatches past their increment and not yet back from the handler.
    // With the handler's store and load this is a Dekker pair (both
    // sequentially consistent): irq_free() either sees a dispatch here or
    // the dispatch sees the handler gone.
    kstd::atomic<uint32_t> in_flight;
};

constinit Slot s_slots[256] {};
constinit kstd::atomic<uint64_t> s_spurious { 0 };
constinit kstd::atomic<uint64_t> s_unclaimed { 0 };

// Which vectors are taken; changes only under the lock.
struct Allocation {
    bool taken[256] {};
};
constinit SpinlockProtected<Allocation, LockRank::Interrupts> s_allocation;

bool is_device_vector(unsigned vector)
{
    return vector >= arch::vector::first_device && vector <= arch::vector::last_device;
}

void install(uint8_t vector, const char* name, IrqHandler handler, void* context)
{
    Slot& slot = s_slots[vector];
    slot.context = context;
    slot.name = name;
    slot.count.store(0, kstd::memory_order_relaxed);
    slot.handler.store(handler, kstd::memory_order_release);
}

// Device interrupts go to the boot CPU.
uint32_t device_destination() { return arch::cpu_at(0).apic_id; }

} // namespace

ErrorOr<void> irq_register_fixed(uint8_t vector, const char* name, IrqHandler handler, void* context)
{
    if (vector < 32 || is_device_vector(vector) || vector == arch::vector::spurious || handler == nullptr)
        return Error(Errno::INVAL, "irq: not a fixed vector");
    return s_allocation.with([&](Allocation& allocation) -> ErrorOr<void> {
        if (allocation.taken[vector])
            return Error(Errno::BUSY, "irq: vector already has a handler");
        allocation.taken[vector] = true;
        install(vector, name, handler, context);
        return {};
    });
}

ErrorOr<IrqTarget> irq_allocate(const char* name, IrqHandler handler, void* context)
{
    if (handler == nullptr)
        return Error(Errno::INVAL, "irq: no handler");
    return s_allocation.with([&](Allocation& allocation) -> ErrorOr<IrqTarget> {
        for (unsigned vector = arch::vector::first_device; vector <= arch::vector::last_device; ++vector) {
            if (allocation.taken[vector])
                continue;
            allocation.taken[vector] = true;
            install(static_cast<uint8_t>(vector), name, handler, context);
            return IrqTarget { static_cast<uint8_t>(vector), device_destination() };
        }
        return Error(Errno::NOSPC, "irq: no free device vector");
    });
}

// Long enough for any handler under a loaded TCG host; a handler still
// running after it is stuck or is the caller (see irq.h).
constexpr uint64_t free_wait_ns = 5 * ns_per_second;

void irq_free(uint8_t vector)
{
    Slot& slot = s_slots[vector];
    slot.handler.store(nullptr);
    // The caller frees the context next: no CPU may still be in the handler.
    // The vector stays taken meanwhile, so a new owner cannot install a
    // context that a late dispatch of the old handler would be given.
    uint64_t deadline = uptime_ns() + free_wait_ns;
    while (slot.in_flight.load() != 0) {
        if (uptime_ns() > deadline)
            panic("irq: vector %u's handler still runs %llu ms after irq_free()", vector,
                static_cast<unsigned long long>(free_wait_ns / ns_per_ms));
        arch::relax();
    }
    s_allocation.with([&](Allocation& allocation) { allocation.taken[vector] = false; });
}

ErrorOr<IrqTarget> irq_route_isa(uint8_t isa_irq, const char* name, IrqHandler handler, void* context)
{
    IrqTarget target = TRY(irq_allocate(name, handler, context));
    if (auto routed = arch::ioapic_route_isa_irq(isa_irq, target.vector, target.destination_apic_id);
        routed.is_error()) {
        irq_free(target.vector);
        return routed.error();
    }
    return target;
}

ErrorOr<IrqTarget> irq_route_gsi(
    uint32_t gsi, bool level_triggered, bool active_low, const char* name, IrqHandler handler, void* context)
{
    IrqTarget target = TRY(irq_allocate(name, handler, context));
    if (auto routed
        = arch::ioapic_route_gsi(gsi, target.vector, target.destination_apic_id, level_triggered, active_low);
        routed.is_error()) {
        irq_free(target.vector);
        return routed.error();
    }
    return target;
}

void irq_dispatch(uint8_t vector)
{
    // Spurious interrupts are not in service at the LAPIC: no EOI.
    if (vector == arch::vector::spurious
        || (vector >= arch::vector::first_legacy_pic && vector <= arch::vector::last_legacy_pic)) {
        s_spurious.fetch_add(1, kstd::memory_order_relaxed);
        return;
    }
    Slot& slot = s_slots[vector];
    slot.in_flight.fetch_add(1);
    IrqHandler handler = slot.handler.load();
    if (handler == nullptr) {
        slot.in_flight.fetch_sub(1, kstd::memory_order_release);
        s_unclaimed.fetch_add(1, kstd::memory_order_relaxed);
        arch::lapic_end_of_interrupt();
        return;
    }
    slot.count.fetch_add(1, kstd::memory_order_relaxed);
    ++arch::this_cpu_local().irq_depth;
    handler(slot.context);
    --arch::this_cpu_local().irq_depth;
    slot.in_flight.fetch_sub(1, kstd::memory_order_release);
    // EOI before a possible switch: the next thread must get interrupts.
    arch::lapic_end_of_interrupt();
    Scheduler::preempt_if_needed();
}

bool irq_in_handler()
{
    bool interrupts = arch::save_and_disable_interrupts();
    bool inside = arch::this_cpu_local().irq_depth != 0;
    arch::restore_interrupts(interrupts);
    return inside;
}

uint64_t irq_spurious_count() { return s_spurious.load(kstd::memory_order_relaxed); }
uint64_t irq_unclaimed_count() { return s_unclaimed.load(kstd::memory_order_relaxed); }

size_t irq_list(IrqInfo* out, size_t capacity)
{
    size_t found = 0;
    for (unsigned vector = 32; vector < 256; ++vector) {
        Slot& slot = s_slots[vector];
        if (slot.handler.load(kstd::memory_order_acquire) == nullptr)
            continue;
        if (found < capacity)
            out[found] = { static_cast<uint8_t>(vector), slot.name, slot.count.load(kstd::memory_order_relaxed) };
        ++found;
    }
    return found;
}

} // namespace tessera
