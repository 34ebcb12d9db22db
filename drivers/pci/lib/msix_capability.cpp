#include <drivers/pci/lib/capability_list.h>
#include <drivers/pci/lib/msix_capability.h>
#include <kernel/lib/checked.h>

namespace tessera {

namespace {

constexpr uint32_t bir_mask = 0x7;
constexpr uint8_t max_bir = 5;

ErrorOr<void> check_inside(const PciBar& bar, uint64_t offset, uint64_t length, const char* not_memory,
    const char* unassigned, const char* outside)
{
    if (!bar.is_memory())
        return Error(Errno::INVAL, not_memory);
    if (bar.address == 0)
        return Error(Errno::INVAL, unassigned);
    auto end = checked_add<uint64_t>(offset, length);
    if (end.is_error() || end.value() > bar.size)
        return Error(Errno::INVAL, outside);
    return {};
}

} // namespace

ErrorOr<MsixCapability> pci_decode_msix_capability(PciConfigSpace& config, uint8_t offset)
{
    if (config.read8(offset) != pci_capability_id::msix)
        return Error(Errno::INVAL, "msix: not an MSI-X capability");
    if (static_cast<unsigned>(offset) + msix_capability_length > pci_config_space_size)
        return Error(Errno::INVAL, "msix: capability runs past the configuration space");
    uint16_t control = config.read16(static_cast<uint8_t>(offset + 2));
    uint32_t table = config.read32(static_cast<uint8_t>(offset + 4));
    uint32_t pba = config.read32(static_cast<uint8_t>(offset + 8));
    MsixCapability capability {
        .offset = offset,
        .table_size = static_cast<uint16_t>((control & msix_control::table_size_mask) + 1),
        .table_bir = static_cast<uint8_t>(table & bir_mask),
        .table_offset = table & ~bir_mask,
        .pba_bir = static_cast<uint8_t>(pba & bir_mask),
        .pba_offset = pba & ~bir_mask,
        .enabled = (control & msix_control::enable) != 0,
        .function_masked = (control & msix_control::function_mask) != 0,
    };
    if (capability.table_bir > max_bir)
        return Error(Errno::INVAL, "msix: table BIR names a reserved BAR");
    if (capability.pba_bir > max_bir)
        return Error(Errno::INVAL, "msix: PBA BIR names a reserved BAR");
    return capability;
}

ErrorOr<MsixCapability> pci_find_msix_capability(PciConfigSpace& config)
{
    uint8_t offset = TRY(pci_find_capability(config, pci_capability_id::msix));
    return pci_decode_msix_capability(config, offset);
}

ErrorOr<void> pci_msix_validate_layout(const MsixCapability& capability, const PciBar& table_bar, const PciBar& pba_bar)
{
    if (table_bar.index != capability.table_bir || pba_bar.index != capability.pba_bir)
        return Error(Errno::INVAL, "msix: BAR given is not the one the capability names");
    TRY(check_inside(table_bar, capability.table_offset, capability.table_bytes(), "msix: table BAR is not memory",
        "msix: table BAR not assigned by the firmware", "msix: table runs past the end of its BAR"));
    TRY(check_inside(pba_bar, capability.pba_offset, capability.pba_bytes(), "msix: PBA BAR is not memory",
        "msix: PBA BAR not assigned by the firmware", "msix: PBA runs past the end of its BAR"));
    if (capability.table_bir == capability.pba_bir) {
        // Both ends are checked against the BAR size above, so no overflow.
        uint64_t table_end = capability.table_offset + capability.table_bytes();
        uint64_t pba_end = capability.pba_offset + capability.pba_bytes();
        if (capability.table_offset < pba_end && capability.pba_offset < table_end)
            return Error(Errno::INVAL, "msix: table and PBA overlap");
    }
    return {};
}

void pci_msix_set_control(PciConfigSpace& config, const MsixCapability& capability, bool enable, bool function_mask)
{
    uint16_t control = config.read16(capability.control_offset());
    control = static_cast<uint16_t>(control & ~(msix_control::enable | msix_control::function_mask));
    if (enable)
        control |= msix_control::enable;
    if (function_mask)
        control |= msix_control::function_mask;
    config.write16(capability.control_offset(), control);
}

} // namespace tessera
