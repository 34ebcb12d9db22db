#pragma once
// The MSI-X table: 16-byte entries in device memory. [PCI Local Bus 3.0]:
// 6.8.2.6-6.8.2.9: message address (+0), upper address (+4), data (+8) and
// vector control (+12; bit 0 masks the entry, the other bits are reserved
// and kept as read). An entry's address and data may change only while it
// is masked, so program() masks it and leaves it masked; unmasking is a
// separate, last step. Accesses are 32 bits wide, as the table allows.
// Portable: the kernel hands it the mapped BAR, host tests an array.

#include <arch/msi.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

struct MsixEntry {
    uint64_t address;
    uint32_t data;
    bool masked;
};

class MsixTable {
public:
    MsixTable() = default;
    MsixTable(volatile uint32_t* base, uint16_t size)
        : m_base(base)
        , m_size(size)
    {
    }

    uint16_t size() const { return m_size; }
    bool is_mapped() const { return m_base != nullptr; }

    // Masks entry `index` and writes `message` into it. ERANGE: no such entry.
    // EINVAL: an address with its two low bits set.
    ErrorOr<void> program(uint16_t index, arch::MsiMessage message);
    ErrorOr<void> set_masked(uint16_t index, bool masked);
    ErrorOr<MsixEntry> read(uint16_t index) const;

private:
    static constexpr size_t words_per_entry = 4;
    static constexpr size_t address_low = 0;
    static constexpr size_t address_high = 1;
    static constexpr size_t data = 2;
    static constexpr size_t vector_control = 3;
    static constexpr uint32_t entry_masked = 1u << 0;

    volatile uint32_t* word(uint16_t index, size_t field) const { return m_base + index * words_per_entry + field; }

    volatile uint32_t* m_base { nullptr };
    uint16_t m_size { 0 };
};

} // namespace tessera
