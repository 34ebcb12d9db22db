#pragma once
// MSI on a real function: the portable programming of lib/msi_capability.h
// plus what the device needs around it (bus mastering, since the message
// is a memory write the function makes; INTx off).

#include <drivers/pci/lib/msi_capability.h>
#include <drivers/pci/pci_device.h>

namespace tessera {

// Routes the function's (single) MSI vector to `vector` on the CPU with
// `apic_id` and enables it. ENOENT: no MSI capability; EINVAL: a malformed
// capability list or capability; ERANGE/EINVAL from the message format.
ErrorOr<MsiCapability> pci_enable_msi(const PciDevice& device, uint32_t apic_id, uint8_t vector);
void pci_disable_msi(const PciDevice& device, const MsiCapability& capability);

} // namespace tessera
