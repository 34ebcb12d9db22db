#pragma once
// The x86 message a PCI function writes to signal an MSI or MSI-X
// interrupt: a write of `data` to `address`, which the local APICs claim.
// [intel/vol3]: 11.11 "Message signalled interrupts", 11.11.1 "Message
// Address Register Format" and 11.11.2 "Message Data Register Format".
// Portable (no hardware access), host-tested in test/host/msi_message_test.cpp.

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera::arch {

// What PCI code programs into a device; the layout of the bits is this
// architecture's business.
struct MsiMessage {
    uint64_t address;
    uint32_t data;
};

// [intel/vol3]: 11.11.1. Bits 31:20 are 0xFEE; 19:12 the destination APIC
// id; bit 3 the redirection hint (RH); bit 2 the destination mode (DM,
// 0 physical, 1 logical). The upper 32 bits are zero without interrupt
// remapping.
class MsiAddress {
public:
    static constexpr uint32_t fixed_bits = 0xfee0'0000;
    static constexpr uint32_t fixed_mask = 0xfff0'0000;

    constexpr explicit MsiAddress(uint32_t raw)
        : m_raw(raw)
    {
    }
    // Physical destination, no redirection: only the CPU with `apic_id`.
    static constexpr MsiAddress physical(uint8_t apic_id)
    {
        return MsiAddress(fixed_bits | (static_cast<uint32_t>(apic_id) << 12));
    }

    constexpr uint32_t raw() const { return m_raw; }
    constexpr bool has_fixed_bits() const { return (m_raw & fixed_mask) == fixed_bits; }
    constexpr uint8_t destination_id() const { return static_cast<uint8_t>(m_raw >> 12); }
    constexpr bool redirection_hint() const { return (m_raw & (1u << 3)) != 0; }
    constexpr bool logical_destination() const { return (m_raw & (1u << 2)) != 0; }

private:
    uint32_t m_raw;
};

// [intel/vol3]: 11.11.2. Bits 7:0 vector; 10:8 delivery mode; bit 14 level
// (assert/deassert, used only for level trigger); bit 15 trigger mode
// (0 edge, 1 level). The rest is reserved and written as zero.
enum class MsiDeliveryMode : uint8_t {
    Fixed = 0b000,
    LowestPriority = 0b001,
    Smi = 0b010,
    Nmi = 0b100,
    Init = 0b101,
    ExtInt = 0b111,
};

class MsiData {
public:
    constexpr explicit MsiData(uint32_t raw)
        : m_raw(raw)
    {
    }
    static constexpr MsiData fixed_edge(uint8_t vector) { return MsiData(vector); }

    constexpr uint32_t raw() const { return m_raw; }
    constexpr uint8_t vector() const { return static_cast<uint8_t>(m_raw); }
    constexpr MsiDeliveryMode delivery_mode() const { return static_cast<MsiDeliveryMode>((m_raw >> 8) & 0x7); }
    constexpr bool level_asserted() const { return (m_raw & (1u << 14)) != 0; }
    constexpr bool level_triggered() const { return (m_raw & (1u << 15)) != 0; }

private:
    uint32_t m_raw;
};

// Lowest vector a device may be given: 0-31 are exceptions (and 0-15 an
// "illegal vector" to the APIC, [intel/vol3]: 11.5.2).
constexpr uint8_t msi_min_vector = 32;

// Fixed delivery, edge-triggered, physical destination `apic_id`, `vector`.
// ERANGE: an APIC id above 255 (xAPIC messages carry 8 bits; more needs
// interrupt remapping). EINVAL: a vector below msi_min_vector.
ErrorOr<MsiMessage> compose_msi_message(uint32_t apic_id, uint8_t vector);

} // namespace tessera::arch
