#pragma once
// Vectors for message-signalled interrupts, with a context pointer per
// handler. This is the one file that couples PCI MSI/MSI-X to the IRQ
// layer: today it hands out a private range through
// arch::register_interrupt_handler; when kernel/irq's vector allocator
// lands, only msi_vectors.cpp changes.
//
// The range is 0xd0-0xdf: the IOAPIC pins start at 0x30, the masked 8259
// PICs were moved to 0xe0-0xef (their spurious IRQ 7/15 can still arrive
// there), and 0xf0 and up are IPIs and the APIC's spurious vector.

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

constexpr uint8_t msi_first_vector = 0xd0;
constexpr uint8_t msi_vector_count = 16;

// Runs in interrupt context, on the CPU the message was sent to; the end
// of interrupt is sent after it returns.
using MsiHandler = void (*)(void* context, uint8_t vector);

// A free vector, now routed to `handler(context, vector)`. ENOSPC when all
// are taken.
ErrorOr<uint8_t> msi_vector_allocate(MsiHandler handler, void* context);
// Gives the vector back. The device must no longer send to it.
void msi_vector_free(uint8_t vector);
// Interrupts that arrived on a range vector with no handler.
uint64_t msi_unclaimed_count();

} // namespace tessera
