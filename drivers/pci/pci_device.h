#pragma once
// One PCI function found by the bus scan: where it is and what it says it
// is. The base the full enumeration (BARs for virtio) grows from.

#include <drivers/pci/lib/pci_address.h>
#include <drivers/pci/lib/pci_bar.h>
#include <drivers/pci/pci_config_io.h>
#include <kernel/lib/error_or.h>

namespace tessera {

struct PciDevice {
    PciAddress address;
    uint16_t vendor_id;
    uint16_t device_id;
    uint8_t class_code;
    uint8_t subclass;
    uint8_t prog_if;
    uint8_t revision;
    uint8_t header_type; // without the multifunction bit

    PciPortConfigSpace config() const { return PciPortConfigSpace(address); }
    ErrorOr<PciBar> bar(uint8_t index) const;
    // Sets bits in the command register (memory decode, bus mastering...).
    void enable_command(uint16_t bits) const;
};

} // namespace tessera
