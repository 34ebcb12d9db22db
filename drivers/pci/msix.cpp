#include <arch/paging.h>
#include <drivers/pci/msix.h>

namespace tessera {

ErrorOr<PciMsix> pci_msix_map(const PciDevice& device)
{
    auto config = device.config();
    auto capability = TRY(pci_find_msix_capability(config));
    auto table_bar = TRY(device.bar(capability.table_bir));
    auto pba_bar = capability.pba_bir == capability.table_bir ? table_bar : TRY(device.bar(capability.pba_bir));
    TRY(pci_msix_validate_layout(capability, table_bar, pba_bar));
    device.enable_command(pci_command::memory_space | pci_command::bus_master | pci_command::interrupt_disable);
    // validate_layout checked offset + length against the BAR's size, and the
    // BAR's address + size against overflow when it was probed.
    auto* base = TRY(arch::map_mmio(table_bar.address + capability.table_offset, capability.table_bytes()));
    return PciMsix { capability, table_bar, MsixTable(static_cast<volatile uint32_t*>(base), capability.table_size) };
}

void pci_msix_set_control(const PciDevice& device, const PciMsix& msix, bool enable, bool function_mask)
{
    auto config = device.config();
    pci_msix_set_control(config, msix.capability, enable, function_mask);
}

} // namespace tessera
