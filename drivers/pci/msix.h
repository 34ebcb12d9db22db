#pragma once
// MSI-X on a real function: find the capability, check its table and PBA
// against the BARs they live in, and map the table (arch::map_mmio, which
// never unmaps: a function's table is mapped once, by its driver).

#include <drivers/pci/lib/msix_capability.h>
#include <drivers/pci/lib/msix_table.h>
#include <drivers/pci/pci_device.h>

namespace tessera {

struct PciMsix {
    MsixCapability capability;
    PciBar table_bar;
    MsixTable table;
};

// ENOENT: no MSI-X capability. EINVAL: a malformed capability, or a table
// or PBA that does not fit its BAR (the error names which). Whatever the
// outcome, MSI-X is left as it was (not enabled by this call); memory
// decode and bus mastering are switched on.
ErrorOr<PciMsix> pci_msix_map(const PciDevice& device);

// Sets MSI-X enable and the function mask. The usual order: enable with
// the function masked, program entries, then clear the function mask.
void pci_msix_set_control(const PciDevice& device, const PciMsix& msix, bool enable, bool function_mask);

} // namespace tessera
