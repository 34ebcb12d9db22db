#include <drivers/pci/msi_vectors.h>
#include <kernel/irq/irq.h>
#include <kernel/lib/assert.h>

namespace tessera {

namespace {

// One slot per vector. The slot's handler and context are written before
// irq_allocate publishes the vector, and cleared only after irq_free, so
// the interrupt path never sees a half-written slot.
struct Slot {
    MsiHandler handler { nullptr };
    void* context { nullptr };
    uint8_t vector { 0 };
    kstd::atomic<bool> used { false };
};

constexpr size_t slot_count = 256;
constinit Slot s_slots[slot_count] {};

void dispatch(void* context)
{
    auto& slot = *static_cast<Slot*>(context);
    slot.handler(slot.context, slot.vector);
}

} // namespace

ErrorOr<uint8_t> msi_vector_allocate(MsiHandler handler, void* context)
{
    VERIFY(handler != nullptr);
    // Any free slot will do: the vector is recorded in it once the IRQ
    // layer has chosen one.
    for (Slot& slot : s_slots) {
        if (slot.used.exchange(true, kstd::memory_order_acq_rel))
            continue;
        slot.handler = handler;
        slot.context = context;
        auto target = irq_allocate("msi", dispatch, &slot);
        if (target.is_error()) {
            slot.used.store(false, kstd::memory_order_release);
            return target.release_error();
        }
        slot.vector = target.value().vector;
        return slot.vector;
    }
    return Error(Errno::NOSPC, "msi: every MSI slot is in use");
}

void msi_vector_free(uint8_t vector)
{
    for (Slot& slot : s_slots) {
        if (slot.used.load(kstd::memory_order_acquire) && slot.vector == vector) {
            irq_free(vector);
            slot.used.store(false, kstd::memory_order_release);
            return;
        }
    }
    VERIFY(!"msi_vector_free: vector was not allocated");
}

} // namespace tessera
