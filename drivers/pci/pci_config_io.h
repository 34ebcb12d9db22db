#pragma once
// Configuration space through mechanism #1: the address goes to port 0xCF8
// (CONFIG_ADDRESS), the data moves through 0xCFC-0xCFF (CONFIG_DATA).
// [PCI Local Bus 3.0]: 3.2.2.3.2. The two ports are one shared register
// pair for the whole machine, so every access holds one spinlock from the
// address write to the data access.

#include <drivers/pci/lib/pci_address.h>
#include <drivers/pci/lib/pci_config_space.h>

namespace tessera {

class PciPortConfigSpace final : public PciConfigSpace {
public:
    explicit PciPortConfigSpace(PciAddress address)
        : m_address(address)
    {
    }

    uint8_t read8(uint8_t offset) override;
    uint16_t read16(uint8_t offset) override;
    uint32_t read32(uint8_t offset) override;
    void write8(uint8_t offset, uint8_t value) override;
    void write16(uint8_t offset, uint16_t value) override;
    void write32(uint8_t offset, uint32_t value) override;

private:
    PciAddress m_address;
};

} // namespace tessera
