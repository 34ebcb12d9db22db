#pragma once
// The core's interrupt layer: handlers with a context pointer, vector
// allocation, IOAPIC routing and counters. The arch layer calls
// irq_dispatch() for every vector from 32 up; it counts the interrupt, runs
// the handler, signals end of interrupt and lets the scheduler preempt.
// Handlers run with interrupts off and must not sleep. See README.md.

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

using IrqHandler = void (*)(void* context);

// Where an allocated interrupt arrives: what an MSI/MSI-X message or an
// IOAPIC entry must name.
struct IrqTarget {
    uint8_t vector;
    uint32_t destination_apic_id;
};

// A fixed vector (arch::vector::timer, the IPIs). EBUSY if it has a handler.
ErrorOr<void> irq_register_fixed(uint8_t vector, const char* name, IrqHandler handler, void* context);

// A free vector from the device range with `handler` on it (for MSI: compose
// the message from the result). ENOSPC when every device vector is taken.
ErrorOr<IrqTarget> irq_allocate(const char* name, IrqHandler handler, void* context);
// Gives the vector back; the device must no longer raise it. Returns once
// no CPU runs the handler any more, so the caller may free the context
// then; hence not from the vector's own handler (that panics after 5 s).
void irq_free(uint8_t vector);

// Legacy ISA IRQ `isa_irq` (after the firmware's overrides) through the
// IOAPIC to a newly allocated vector with `handler`.
ErrorOr<IrqTarget> irq_route_isa(uint8_t isa_irq, const char* name, IrqHandler handler, void* context);
// The same for a global system interrupt (PCI INTx: level, active low).
ErrorOr<IrqTarget> irq_route_gsi(
    uint32_t gsi, bool level_triggered, bool active_low, const char* name, IrqHandler handler, void* context);

// Called by the arch layer with interrupts off.
void irq_dispatch(uint8_t vector);

// True while this CPU runs an interrupt handler (timer callbacks included):
// the current thread is then merely the one that was interrupted.
bool irq_in_handler();

// Interrupts nobody asked for: the LAPIC's spurious vector and the masked
// PIC's range (spurious), and vectors with no handler (unclaimed).
uint64_t irq_spurious_count();
uint64_t irq_unclaimed_count();

struct IrqInfo {
    uint8_t vector;
    const char* name;
    uint64_t count;
};
// The vectors that have a handler, in vector order; returns how many there are.
size_t irq_list(IrqInfo* out, size_t capacity);

} // namespace tessera
