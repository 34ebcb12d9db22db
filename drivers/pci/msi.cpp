#include <drivers/pci/msi.h>

namespace tessera {

ErrorOr<MsiCapability> pci_enable_msi(const PciDevice& device, uint32_t apic_id, uint8_t vector)
{
    auto config = device.config();
    auto capability = TRY(pci_find_msi_capability(config));
    auto message = TRY(arch::compose_msi_message(apic_id, vector));
    device.enable_command(pci_command::bus_master | pci_command::interrupt_disable);
    TRY(pci_msi_enable(config, capability, message));
    capability.enabled = true;
    return capability;
}

void pci_disable_msi(const PciDevice& device, const MsiCapability& capability)
{
    auto config = device.config();
    pci_msi_disable(config, capability);
}

} // namespace tessera
