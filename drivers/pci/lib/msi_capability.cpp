#include <drivers/pci/lib/capability_list.h>
#include <drivers/pci/lib/msi_capability.h>

namespace tessera {

ErrorOr<MsiCapability> pci_decode_msi_capability(PciConfigSpace& config, uint8_t offset)
{
    if (config.read8(offset) != pci_capability_id::msi)
        return Error(Errno::INVAL, "msi: not an MSI capability");
    uint16_t control = config.read16(static_cast<uint8_t>(offset + 2));
    unsigned log2_vectors = (control >> msi_control::multiple_capable_shift) & 0x7;
    if (log2_vectors > 5)
        return Error(Errno::INVAL, "msi: reserved multiple-message-capable code");
    MsiCapability capability {
        .offset = offset,
        .is_64bit = (control & msi_control::address_64bit) != 0,
        .per_vector_masking = (control & msi_control::per_vector_masking) != 0,
        .vectors_capable = static_cast<uint8_t>(1u << log2_vectors),
        .enabled = (control & msi_control::enable) != 0,
    };
    if (static_cast<unsigned>(offset) + capability.length() > pci_config_space_size)
        return Error(Errno::INVAL, "msi: capability runs past the configuration space");
    return capability;
}

ErrorOr<MsiCapability> pci_find_msi_capability(PciConfigSpace& config)
{
    uint8_t offset = TRY(pci_find_capability(config, pci_capability_id::msi));
    return pci_decode_msi_capability(config, offset);
}

ErrorOr<void> pci_msi_enable(PciConfigSpace& config, const MsiCapability& capability, arch::MsiMessage message)
{
    if ((message.address & 0x3) != 0)
        return Error(Errno::INVAL, "msi: message address not dword-aligned");
    if (!capability.is_64bit && (message.address >> 32) != 0)
        return Error(Errno::INVAL, "msi: 64-bit message address for a 32-bit capability");
    if (message.data > 0xffff)
        return Error(Errno::INVAL, "msi: message data wider than 16 bits");

    uint16_t control = config.read16(capability.control_offset());
    control = static_cast<uint16_t>(control & ~(msi_control::enable | msi_control::multiple_enable_mask));
    config.write16(capability.control_offset(), control);
    config.write32(capability.address_offset(), static_cast<uint32_t>(message.address));
    if (capability.is_64bit)
        config.write32(capability.address_high_offset(), static_cast<uint32_t>(message.address >> 32));
    config.write16(capability.data_offset(), static_cast<uint16_t>(message.data));
    if (capability.per_vector_masking)
        TRY(pci_msi_set_masked(config, capability, false));
    config.write16(capability.control_offset(), static_cast<uint16_t>(control | msi_control::enable));
    return {};
}

void pci_msi_disable(PciConfigSpace& config, const MsiCapability& capability)
{
    uint16_t control = config.read16(capability.control_offset());
    config.write16(capability.control_offset(), static_cast<uint16_t>(control & ~msi_control::enable));
}

ErrorOr<void> pci_msi_set_masked(PciConfigSpace& config, const MsiCapability& capability, bool masked)
{
    if (!capability.per_vector_masking)
        return Error(Errno::INVAL, "msi: function cannot mask per vector");
    uint32_t bits = config.read32(capability.mask_offset());
    bits = masked ? (bits | 1u) : (bits & ~1u);
    config.write32(capability.mask_offset(), bits);
    return {};
}

} // namespace tessera
