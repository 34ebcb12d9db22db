#pragma once
// The MSI capability (id 0x05). [PCI Local Bus 3.0]: 6.8.1 "MSI capability
// structure": message control at +2 (bit 0 enable, 3:1 vectors capable as
// log2, 6:4 vectors enabled, bit 7 64-bit address capable, bit 8 per-vector
// masking capable), the message address at +4 (and its upper half at +8 if
// 64-bit), then the 16-bit message data, then (with masking) the mask and
// pending bits. Only single-vector use is programmed here.

#include <arch/msi.h>
#include <drivers/pci/lib/pci_config_space.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

struct MsiCapability {
    uint8_t offset;
    bool is_64bit;
    bool per_vector_masking;
    uint8_t vectors_capable; // 1, 2, 4, ... 32
    bool enabled;

    uint8_t control_offset() const { return static_cast<uint8_t>(offset + 2); }
    uint8_t address_offset() const { return static_cast<uint8_t>(offset + 4); }
    uint8_t address_high_offset() const { return static_cast<uint8_t>(offset + 8); }
    uint8_t data_offset() const { return static_cast<uint8_t>(offset + (is_64bit ? 0xc : 0x8)); }
    uint8_t mask_offset() const { return static_cast<uint8_t>(offset + (is_64bit ? 0x10 : 0xc)); }
    uint8_t pending_offset() const { return static_cast<uint8_t>(offset + (is_64bit ? 0x14 : 0x10)); }
    // Bytes of configuration space the structure covers.
    uint8_t length() const
    {
        return static_cast<uint8_t>(per_vector_masking ? (is_64bit ? 0x18 : 0x14) : (is_64bit ? 0xe : 0xa));
    }
};

namespace msi_control {
constexpr uint16_t enable = 1u << 0;
constexpr uint16_t multiple_capable_shift = 1;
constexpr uint16_t multiple_enable_mask = 0x7u << 4;
constexpr uint16_t address_64bit = 1u << 7;
constexpr uint16_t per_vector_masking = 1u << 8;
} // namespace msi_control

// Decodes the capability at `offset` (found with pci_find_capability).
// EINVAL: not an MSI capability, a "vectors capable" code above 32
// (reserved), or a structure that runs past the configuration space.
ErrorOr<MsiCapability> pci_decode_msi_capability(PciConfigSpace& config, uint8_t offset);

// Finds and decodes the function's MSI capability; ENOENT if it has none.
ErrorOr<MsiCapability> pci_find_msi_capability(PciConfigSpace& config);

// Programs one vector and enables MSI: MSI is switched off while address
// and data change (a half-written message must never be sent), one vector
// is enabled, vector 0 is unmasked if masking exists, then MSI goes on.
// EINVAL: an address with its two low bits set, a 64-bit address for a
// 32-bit capability, or data wider than the 16-bit register.
ErrorOr<void> pci_msi_enable(PciConfigSpace& config, const MsiCapability& capability, arch::MsiMessage message);
void pci_msi_disable(PciConfigSpace& config, const MsiCapability& capability);

// Masks or unmasks vector 0. EINVAL if the function cannot mask per vector.
ErrorOr<void> pci_msi_set_masked(PciConfigSpace& config, const MsiCapability& capability, bool masked);

} // namespace tessera
