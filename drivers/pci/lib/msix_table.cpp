#include <drivers/pci/lib/msix_table.h>

namespace tessera {

ErrorOr<void> MsixTable::program(uint16_t index, arch::MsiMessage message)
{
    if (index >= m_size)
        return Error(Errno::RANGE, "msix: no such table entry");
    if ((message.address & 0x3) != 0)
        return Error(Errno::INVAL, "msix: message address not dword-aligned");
    TRY(set_masked(index, true));
    *word(index, address_low) = static_cast<uint32_t>(message.address);
    *word(index, address_high) = static_cast<uint32_t>(message.address >> 32);
    *word(index, data) = message.data;
    return {};
}

ErrorOr<void> MsixTable::set_masked(uint16_t index, bool masked)
{
    if (index >= m_size)
        return Error(Errno::RANGE, "msix: no such table entry");
    uint32_t control = *word(index, vector_control);
    *word(index, vector_control) = masked ? (control | entry_masked) : (control & ~entry_masked);
    return {};
}

ErrorOr<MsixEntry> MsixTable::read(uint16_t index) const
{
    if (index >= m_size)
        return Error(Errno::RANGE, "msix: no such table entry");
    uint64_t address = (static_cast<uint64_t>(*word(index, address_high)) << 32) | *word(index, address_low);
    return MsixEntry { address, *word(index, data), (*word(index, vector_control) & entry_masked) != 0 };
}

} // namespace tessera
