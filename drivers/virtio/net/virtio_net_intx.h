#pragma once
// INTx for virtio-net functions without MSI-X. PCI INTx lines are shared
// (QEMU's PIIX routes four slots' pins onto IRQs 10 and 11), and an IOAPIC
// pin has one vector, so each line is routed once and its handler asks
// every device on it, through its ISR status, whether it interrupted.

#include <kernel/lib/error_or.h>

namespace tessera {

class VirtioNetDevice;

// Adds `device` to ISA IRQ `line` (routed with the firmware's overrides:
// level-triggered on QEMU, whose MADT says so for the PCI IRQs).
ErrorOr<void> virtio_net_intx_attach(uint8_t line, VirtioNetDevice& device);

} // namespace tessera
