#include <drivers/pci/lib/pci_bar.h>
#include <kernel/lib/checked.h>

namespace tessera {

namespace {

constexpr uint32_t bar_io = 1u << 0;
constexpr uint32_t bar_type_mask = 0x3u << 1;
constexpr uint32_t bar_type_32 = 0x0u << 1;
constexpr uint32_t bar_type_64 = 0x2u << 1;
constexpr uint32_t bar_prefetchable = 1u << 3;
constexpr uint32_t bar_memory_flags = 0xfu;
constexpr uint32_t bar_io_flags = 0x3u;

uint8_t bar_offset(uint8_t index) { return static_cast<uint8_t>(pci_register::bar0 + 4 * index); }

// Writes all ones to the BAR dword at `offset`, reads back what sticks and
// restores the original value.
uint32_t size_mask_of(PciConfigSpace& config, uint8_t offset, uint32_t original)
{
    config.write32(offset, 0xffff'ffffu);
    uint32_t mask = config.read32(offset);
    config.write32(offset, original);
    return mask;
}

} // namespace

ErrorOr<uint8_t> pci_bar_count(uint8_t header_type)
{
    switch (header_type & pci_header_type_mask) {
    case pci_header_general:
        return static_cast<uint8_t>(6);
    case pci_header_bridge:
        return static_cast<uint8_t>(2);
    default:
        return Error(Errno::INVAL, "pci: header type without BARs");
    }
}

ErrorOr<PciBar> pci_probe_bar(PciConfigSpace& config, uint8_t index)
{
    uint8_t count = TRY(pci_bar_count(config.read8(pci_register::header_type)));
    if (index >= count)
        return Error(Errno::INVAL, "pci: BAR index past the header's BARs");
    uint8_t offset = bar_offset(index);
    uint32_t low = config.read32(offset);
    if ((low & bar_io) != 0)
        return PciBar { PciBarKind::Io, index, low & ~bar_io_flags, 0, false };

    bool is_64 = false;
    switch (low & bar_type_mask) {
    case bar_type_32:
        break;
    case bar_type_64:
        if (index + 1 >= count)
            return Error(Errno::INVAL, "pci: 64-bit BAR in the last slot");
        is_64 = true;
        break;
    default:
        return Error(Errno::INVAL, "pci: memory BAR of a reserved type");
    }
    uint32_t high = is_64 ? config.read32(static_cast<uint8_t>(offset + 4)) : 0;

    uint16_t command = config.read16(pci_register::command);
    config.write16(
        pci_register::command, static_cast<uint16_t>(command & ~(pci_command::memory_space | pci_command::io_space)));
    uint32_t mask_low = size_mask_of(config, offset, low) & ~bar_memory_flags;
    // A 32-bit BAR decodes no bits above 31: treat them as fixed ones.
    uint32_t mask_high = is_64 ? size_mask_of(config, static_cast<uint8_t>(offset + 4), high) : 0xffff'ffffu;
    config.write16(pci_register::command, command);

    uint64_t mask = (static_cast<uint64_t>(mask_high) << 32) | mask_low;
    if (mask_low == 0 && (!is_64 || mask_high == 0))
        return Error(Errno::NOENT, "pci: BAR not implemented");
    uint64_t size = ~mask + 1;
    if (!is_power_of_two(size))
        return Error(Errno::INVAL, "pci: BAR size mask not contiguous");
    uint64_t address = (static_cast<uint64_t>(high) << 32) | (low & ~bar_memory_flags);
    if ((address & (size - 1)) != 0)
        return Error(Errno::INVAL, "pci: BAR address not aligned to its size");
    if (address != 0)
        TRY(checked_add<uint64_t>(address, size - 1));
    return PciBar { is_64 ? PciBarKind::Memory64 : PciBarKind::Memory32, index, address, size,
        (low & bar_prefetchable) != 0 };
}

} // namespace tessera
