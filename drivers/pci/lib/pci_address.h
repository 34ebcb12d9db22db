#pragma once
// Where a PCI function sits: bus, device, function. [PCI Local Bus 3.0]:
// 3.2.2.3.2 "Software generation of configuration transactions" gives the
// CONFIG_ADDRESS layout of configuration mechanism #1 encoded here.

#include <kernel/lib/kstd.h>

namespace tessera {

constexpr uint8_t pci_max_device = 31;
constexpr uint8_t pci_max_function = 7;

struct PciAddress {
    uint8_t bus { 0 };
    uint8_t device { 0 };
    uint8_t function { 0 };

    constexpr bool is_valid() const { return device <= pci_max_device && function <= pci_max_function; }
    constexpr bool operator==(const PciAddress&) const = default;
};

// CONFIG_ADDRESS (port 0xCF8) for the dword holding `offset`: bit 31
// enables the access, bits 23:16 bus, 15:11 device, 10:8 function, 7:2 the
// register; bits 1:0 are zero (the byte within the dword is chosen by the
// data port, 0xCFC + (offset & 3)).
constexpr uint32_t pci_config_address(PciAddress address, uint8_t offset)
{
    return 0x8000'0000u | (static_cast<uint32_t>(address.bus) << 16)
        | (static_cast<uint32_t>(address.device & 0x1f) << 11) | (static_cast<uint32_t>(address.function & 0x7) << 8)
        | (offset & 0xfcu);
}

} // namespace tessera
