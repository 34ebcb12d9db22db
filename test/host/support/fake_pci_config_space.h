// A PCI function's 256-byte configuration space in memory, for the host
// tests of drivers/pci/lib: plain registers, plus BARs that behave like
// hardware (address bits below the size read back as zero, the flag bits
// are read-only) and a log of writes, so that a test can check what was
// written and in which order.
#pragma once

#include <drivers/pci/lib/pci_config_space.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

namespace tessera::test {

class FakePciConfigSpace final : public PciConfigSpace {
public:
    struct Write {
        uint8_t offset;
        uint8_t width;
        uint32_t value;
        uint16_t command_at_write; // the command register when it happened
    };

    FakePciConfigSpace()
    {
        m_bytes.fill(0);
        put16(pci_register::vendor_id, 0x1234);
        put16(pci_register::device_id, 0x5678);
    }

    // A memory BAR of `size` bytes (a power of two, >= 16) at `address`.
    void set_memory_bar(uint8_t index, uint64_t address, uint64_t size, bool is_64 = false, bool prefetchable = false)
    {
        uint32_t flags = (is_64 ? 0x4u : 0u) | (prefetchable ? 0x8u : 0u);
        m_bars[index] = { size, flags, true, false };
        put32(bar_offset(index), static_cast<uint32_t>(address) | flags);
        if (is_64) {
            m_bars[index + 1] = { size, 0, true, true };
            put32(bar_offset(index + 1), static_cast<uint32_t>(address >> 32));
        }
    }
    // A BAR whose writable bits are exactly `mask` (to forge broken ones).
    void set_raw_bar(uint8_t index, uint32_t value, uint32_t writable_mask)
    {
        m_bars[index] = { 0, 0, true, false, true, writable_mask };
        put32(bar_offset(index), value);
    }

    // Builds a capability list: each pair is (offset, id); the next
    // pointers chain them in the given order.
    void set_capabilities(const std::vector<std::pair<uint8_t, uint8_t>>& list)
    {
        put16(pci_register::status, static_cast<uint16_t>(get16(pci_register::status) | pci_status::capabilities_list));
        m_bytes[pci_register::capabilities_pointer] = list.empty() ? 0 : list.front().first;
        for (size_t i = 0; i < list.size(); ++i) {
            m_bytes[list[i].first] = list[i].second;
            m_bytes[list[i].first + 1u] = i + 1 < list.size() ? list[i + 1].first : 0;
        }
    }

    uint8_t read8(uint8_t offset) override { return m_bytes[offset]; }
    uint16_t read16(uint8_t offset) override { return get16(offset); }
    uint32_t read32(uint8_t offset) override { return get32(offset); }
    void write8(uint8_t offset, uint8_t value) override
    {
        log(offset, 1, value);
        m_bytes[offset] = value;
    }
    void write16(uint8_t offset, uint16_t value) override
    {
        log(offset, 2, value);
        put16(offset, value);
    }
    void write32(uint8_t offset, uint32_t value) override
    {
        log(offset, 4, value);
        if (offset >= pci_register::bar0 && offset < pci_register::bar0 + 24) {
            // An unimplemented BAR is hardwired to zero.
            const Bar& bar = m_bars[(offset - 0x10) / 4];
            if (!bar.present)
                value = 0;
            else if (bar.raw)
                value = (get32(offset) & ~bar.writable) | (value & bar.writable);
            else if (bar.upper_half)
                value &= static_cast<uint32_t>(~(bar.size - 1) >> 32);
            else
                value = (value & static_cast<uint32_t>(~(bar.size - 1)) & ~0xfu) | bar.flags;
        }
        put32(offset, value);
    }

    uint16_t get16(uint8_t offset) const
    {
        return static_cast<uint16_t>(m_bytes[offset] | (m_bytes[offset + 1u] << 8));
    }
    uint32_t get32(uint8_t offset) const
    {
        uint32_t value;
        std::memcpy(&value, &m_bytes[offset], 4);
        return value;
    }
    void put16(uint8_t offset, uint16_t value) { std::memcpy(&m_bytes[offset], &value, 2); }
    void put32(uint8_t offset, uint32_t value) { std::memcpy(&m_bytes[offset], &value, 4); }
    void put8(uint8_t offset, uint8_t value) { m_bytes[offset] = value; }

    const std::vector<Write>& writes() const { return m_writes; }
    void clear_writes() { m_writes.clear(); }

private:
    struct Bar {
        uint64_t size { 0 };
        uint32_t flags { 0 };
        bool present { false };
        bool upper_half { false };
        bool raw { false };
        uint32_t writable { 0 };
    };
    static uint8_t bar_offset(uint8_t index) { return static_cast<uint8_t>(0x10 + 4 * index); }
    void log(uint8_t offset, uint8_t width, uint32_t value)
    {
        m_writes.push_back({ offset, width, value, get16(pci_register::command) });
    }

    std::array<uint8_t, 256> m_bytes {};
    std::array<Bar, 6> m_bars {};
    std::vector<Write> m_writes;
};

} // namespace tessera::test
