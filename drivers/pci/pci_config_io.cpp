#include <arch/io.h>
#include <drivers/pci/pci_config_io.h>
#include <kernel/lib/assert.h>
#include <kernel/locking/spinlock.h>

namespace tessera {

namespace {

constexpr uint16_t config_address_port = 0xcf8;
constexpr uint16_t config_data_port = 0xcfc;

// Held from the CONFIG_ADDRESS write to the CONFIG_DATA access: another
// CPU's address write in between would redirect ours.
constinit Spinlock<LockRank::PciConfig> s_config_lock;

uint16_t select(PciAddress address, uint8_t offset)
{
    arch::out32(config_address_port, pci_config_address(address, offset));
    return static_cast<uint16_t>(config_data_port + (offset & 3));
}

} // namespace

uint8_t PciPortConfigSpace::read8(uint8_t offset)
{
    SpinlockGuard guard(s_config_lock);
    return arch::in8(select(m_address, offset));
}

uint16_t PciPortConfigSpace::read16(uint8_t offset)
{
    VERIFY((offset & 1) == 0);
    SpinlockGuard guard(s_config_lock);
    return arch::in16(select(m_address, offset));
}

uint32_t PciPortConfigSpace::read32(uint8_t offset)
{
    VERIFY((offset & 3) == 0);
    SpinlockGuard guard(s_config_lock);
    return arch::in32(select(m_address, offset));
}

void PciPortConfigSpace::write8(uint8_t offset, uint8_t value)
{
    SpinlockGuard guard(s_config_lock);
    arch::out8(select(m_address, offset), value);
}

void PciPortConfigSpace::write16(uint8_t offset, uint16_t value)
{
    VERIFY((offset & 1) == 0);
    SpinlockGuard guard(s_config_lock);
    arch::out16(select(m_address, offset), value);
}

void PciPortConfigSpace::write32(uint8_t offset, uint32_t value)
{
    VERIFY((offset & 3) == 0);
    SpinlockGuard guard(s_config_lock);
    arch::out32(select(m_address, offset), value);
}

} // namespace tessera
