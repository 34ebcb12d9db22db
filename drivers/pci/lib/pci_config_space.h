#pragma once
// One function's configuration space, as portable code sees it: the kernel
// backs it with port I/O (drivers/pci/pci_config_io.h), host tests with a
// fake array. Offsets are within the 256-byte legacy space; 16- and 32-bit
// accesses must be naturally aligned (the callers here only make such).
// [PCI Local Bus 3.0]: 6.1 "Configuration space organization" for the
// header offsets below.

#include <kernel/lib/kstd.h>

namespace tessera {

// Configuration space a legacy (non-ECAM) access reaches.
constexpr unsigned pci_config_space_size = 256;

namespace pci_register {
constexpr uint8_t vendor_id = 0x00; // 16 bits; 0xffff: no function here
constexpr uint8_t device_id = 0x02;
constexpr uint8_t command = 0x04;
constexpr uint8_t status = 0x06;
constexpr uint8_t revision = 0x08;
constexpr uint8_t prog_if = 0x09;
constexpr uint8_t subclass = 0x0a;
constexpr uint8_t class_code = 0x0b;
constexpr uint8_t header_type = 0x0e;
constexpr uint8_t bar0 = 0x10;
constexpr uint8_t secondary_bus = 0x19; // type 1 (bridge) header
constexpr uint8_t capabilities_pointer = 0x34;
constexpr uint8_t interrupt_line = 0x3c; // the ISA IRQ the firmware routed INTx to; 0xff: none
constexpr uint8_t interrupt_pin = 0x3d; // 1-4 for INTA-INTD; 0: no INTx
} // namespace pci_register

// [PCI Local Bus 3.0]: 6.2.2 "Device control" (command) and 6.2.3 "Device status".
namespace pci_command {
constexpr uint16_t io_space = 1u << 0;
constexpr uint16_t memory_space = 1u << 1;
constexpr uint16_t bus_master = 1u << 2; // needed for MSI: the message is a memory write
constexpr uint16_t interrupt_disable = 1u << 10; // INTx off
} // namespace pci_command
namespace pci_status {
constexpr uint16_t capabilities_list = 1u << 4;
}

constexpr uint8_t pci_header_type_mask = 0x7f;
constexpr uint8_t pci_header_multifunction = 0x80;
constexpr uint8_t pci_header_general = 0x00;
constexpr uint8_t pci_header_bridge = 0x01;

class PciConfigSpace {
public:
    virtual uint8_t read8(uint8_t offset) = 0;
    virtual uint16_t read16(uint8_t offset) = 0;
    virtual uint32_t read32(uint8_t offset) = 0;
    virtual void write8(uint8_t offset, uint8_t value) = 0;
    virtual void write16(uint8_t offset, uint16_t value) = 0;
    virtual void write32(uint8_t offset, uint32_t value) = 0;

protected:
    ~PciConfigSpace() = default;
};

} // namespace tessera
