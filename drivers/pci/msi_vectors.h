#pragma once
// Vectors for message-signalled interrupts, with a context pointer per
// handler. This is the one file that couples PCI MSI/MSI-X to the IRQ
// layer: it takes vectors from kernel/irq's device range (irq_allocate)
// and hands the driver's handler the vector it arrived on.

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

// Runs in interrupt context, on the CPU the message was sent to; the end
// of interrupt is sent after it returns.
using MsiHandler = void (*)(void* context, uint8_t vector);

// A free device vector, now routed to `handler(context, vector)`. ENOSPC
// when every device vector is taken.
ErrorOr<uint8_t> msi_vector_allocate(MsiHandler handler, void* context);
// Gives the vector back. The device must no longer send to it.
void msi_vector_free(uint8_t vector);

} // namespace tessera
