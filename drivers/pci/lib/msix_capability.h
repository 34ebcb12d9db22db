#pragma once
// The MSI-X capability (id 0x11). [PCI Local Bus 3.0]: 6.8.2 "MSI-X
// capability and table structure": message control at +2 (bits 10:0 table
// size minus one, bit 14 function mask, bit 15 enable), the table's BAR
// indicator (BIR, bits 2:0) and offset (bits 31:3) at +4, the pending-bit
// array's at +8. The table itself lives in a memory BAR (msix_table.h).

#include <drivers/pci/lib/pci_bar.h>
#include <drivers/pci/lib/pci_config_space.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

constexpr uint8_t msix_capability_length = 12;
constexpr uint32_t msix_entry_size = 16;

namespace msix_control {
constexpr uint16_t table_size_mask = 0x7ff;
constexpr uint16_t function_mask = 1u << 14;
constexpr uint16_t enable = 1u << 15;
} // namespace msix_control

struct MsixCapability {
    uint8_t offset;
    uint16_t table_size; // entries, 1..2048
    uint8_t table_bir;
    uint32_t table_offset; // within the BAR, 8-byte aligned
    uint8_t pba_bir;
    uint32_t pba_offset;
    bool enabled;
    bool function_masked;

    uint8_t control_offset() const { return static_cast<uint8_t>(offset + 2); }
    uint64_t table_bytes() const { return uint64_t { table_size } * msix_entry_size; }
    // One pending bit per entry, in whole qwords.
    uint64_t pba_bytes() const { return ((uint64_t { table_size } + 63) / 64) * 8; }
};

// Decodes the capability at `offset`. EINVAL: not an MSI-X capability, a
// BIR above 5 (BARs 0-5; 6 and 7 are reserved), or a structure past the
// configuration space.
ErrorOr<MsixCapability> pci_decode_msix_capability(PciConfigSpace& config, uint8_t offset);

// Finds and decodes the function's MSI-X capability; ENOENT if it has none.
ErrorOr<MsixCapability> pci_find_msix_capability(PciConfigSpace& config);

// Checks what the device said against the BARs it named (`table_bar` for
// the table's BIR, `pba_bar` for the PBA's; the same BAR when they share
// one): both must be memory BARs the firmware assigned, the table and the
// PBA must lie wholly inside them, and must not overlap when they share a
// BAR. EINVAL with a message naming which check failed.
ErrorOr<void> pci_msix_validate_layout(
    const MsixCapability& capability, const PciBar& table_bar, const PciBar& pba_bar);

// Sets the enable and function-mask bits (the table size is read-only).
void pci_msix_set_control(PciConfigSpace& config, const MsixCapability& capability, bool enable, bool function_mask);

} // namespace tessera
