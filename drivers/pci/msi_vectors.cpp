#include <arch/apic.h>
#include <arch/interrupts.h>
#include <drivers/pci/msi_vectors.h>
#include <kernel/lib/assert.h>

namespace tessera {

namespace {

// A slot is claimed by flipping `used`; the context is written before the
// handler is published (release), and the interrupt path reads the
// handler first (acquire), so it never sees a handler with a stale context.
struct Slot {
    kstd::atomic<bool> used { false };
    kstd::atomic<MsiHandler> handler { nullptr };
    kstd::atomic<void*> context { nullptr };
};

constinit Slot s_slots[msi_vector_count] {};
constinit kstd::atomic<uint64_t> s_unclaimed { 0 };

void dispatch(arch::RegisterState& registers)
{
    auto vector = static_cast<uint8_t>(registers.vector);
    Slot& slot = s_slots[vector - msi_first_vector];
    MsiHandler handler = slot.handler.load(kstd::memory_order_acquire);
    if (handler != nullptr)
        handler(slot.context.load(kstd::memory_order_relaxed), vector);
    else
        s_unclaimed.fetch_add(1, kstd::memory_order_relaxed);
    arch::lapic_end_of_interrupt();
}

} // namespace

ErrorOr<uint8_t> msi_vector_allocate(MsiHandler handler, void* context)
{
    VERIFY(handler != nullptr);
    for (uint8_t i = 0; i < msi_vector_count; ++i) {
        if (s_slots[i].used.exchange(true, kstd::memory_order_acq_rel))
            continue;
        s_slots[i].context.store(context, kstd::memory_order_relaxed);
        s_slots[i].handler.store(handler, kstd::memory_order_release);
        auto vector = static_cast<uint8_t>(msi_first_vector + i);
        // Idempotent (the same dispatcher every time); the IDT is shared by every CPU.
        arch::register_interrupt_handler(vector, dispatch);
        return vector;
    }
    return Error(Errno::NOSPC, "msi: every MSI vector is in use");
}

void msi_vector_free(uint8_t vector)
{
    VERIFY(vector >= msi_first_vector && vector < msi_first_vector + msi_vector_count);
    Slot& slot = s_slots[vector - msi_first_vector];
    VERIFY(slot.used.load());
    slot.handler.store(nullptr, kstd::memory_order_release);
    slot.used.store(false, kstd::memory_order_release);
}

uint64_t msi_unclaimed_count() { return s_unclaimed.load(kstd::memory_order_relaxed); }

} // namespace tessera
