#include <drivers/pci/lib/capability_list.h>

namespace tessera {

ErrorOr<bool> pci_capability_check_link(uint8_t pointer, uint64_t& visited)
{
    if (pointer == 0)
        return false;
    if ((pointer & 0x3) != 0)
        return Error(Errno::INVAL, "pci: capability pointer not dword-aligned");
    if (pointer < pci_capability_first_offset)
        return Error(Errno::INVAL, "pci: capability pointer into the configuration header");
    // One bit per dword slot past the header: 48 slots fit in 64 bits.
    static_assert(pci_capability_max_entries <= 64);
    uint64_t bit = uint64_t { 1 } << ((pointer - pci_capability_first_offset) / 4);
    if ((visited & bit) != 0)
        return Error(Errno::INVAL, "pci: capability list loops");
    visited |= bit;
    return true;
}

ErrorOr<uint8_t> pci_find_capability(PciConfigSpace& config, uint8_t id)
{
    uint8_t found = 0;
    TRY(pci_walk_capabilities(config, [&](PciCapability capability) {
        if (capability.id != id)
            return true;
        found = capability.offset;
        return false;
    }));
    if (found == 0)
        return Error(Errno::NOENT, "pci: capability not present");
    return found;
}

} // namespace tessera
