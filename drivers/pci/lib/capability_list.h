#pragma once
// The capability list of a PCI function's configuration space. [PCI Local
// Bus 3.0]: 6.7 "Capabilities list": the status register's bit 4 says the
// list exists, offset 0x34 points at the first entry, and each entry is an
// 8-bit id followed by an 8-bit pointer to the next (0 ends the list).
//
// The list comes from the device, so it is checked, not trusted: a pointer
// must be dword-aligned (its two low bits are reserved and "must be 00b";
// a device that sets them is refused rather than guessed at) and lie past
// the 64-byte header, and no entry may be visited twice. A malformed list
// ends the walk with EINVAL; it can never loop.

#include <drivers/pci/lib/pci_config_space.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

namespace pci_capability_id {
constexpr uint8_t power_management = 0x01;
constexpr uint8_t msi = 0x05;
constexpr uint8_t vendor_specific = 0x09;
constexpr uint8_t pci_express = 0x10;
constexpr uint8_t msix = 0x11;
} // namespace pci_capability_id

constexpr uint8_t pci_capability_first_offset = 0x40; // the header ends here
// Dword slots between the header and the end of the 256-byte space: a
// well-formed list cannot have more entries than this.
constexpr size_t pci_capability_max_entries = (256 - pci_capability_first_offset) / 4;

struct PciCapability {
    uint8_t id;
    uint8_t offset;
};

// Calls `visit(capability)` for each entry in list order until it returns
// false. ENOENT: the function has no list (status bit 4 clear). EINVAL: a
// malformed list (the entries before the fault have been visited).
template<typename Visitor>
ErrorOr<void> pci_walk_capabilities(PciConfigSpace& config, Visitor visit);

// The offset of the first capability with `id`. ENOENT when absent (or
// there is no list), EINVAL when the list is malformed before reaching it.
ErrorOr<uint8_t> pci_find_capability(PciConfigSpace& config, uint8_t id);

// The non-template core of the walk: checks `pointer` as the next link and
// marks it visited. Returns false at the end of the list (pointer 0).
ErrorOr<bool> pci_capability_check_link(uint8_t pointer, uint64_t& visited);

template<typename Visitor>
ErrorOr<void> pci_walk_capabilities(PciConfigSpace& config, Visitor visit)
{
    if ((config.read16(pci_register::status) & pci_status::capabilities_list) == 0)
        return Error(Errno::NOENT, "pci: no capability list");
    uint64_t visited = 0;
    uint8_t pointer = config.read8(pci_register::capabilities_pointer);
    while (TRY(pci_capability_check_link(pointer, visited))) {
        uint16_t header = config.read16(pointer);
        if (!visit(PciCapability { static_cast<uint8_t>(header & 0xff), pointer }))
            return {};
        pointer = static_cast<uint8_t>(header >> 8);
    }
    return {};
}

} // namespace tessera
