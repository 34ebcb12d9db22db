#include <drivers/pci/pci_device.h>

namespace tessera {

ErrorOr<PciBar> PciDevice::bar(uint8_t index) const
{
    auto space = config();
    return pci_probe_bar(space, index);
}

void PciDevice::enable_command(uint16_t bits) const
{
    auto space = config();
    uint16_t command = space.read16(pci_register::command);
    if ((command & bits) != bits)
        space.write16(pci_register::command, static_cast<uint16_t>(command | bits));
}

} // namespace tessera
