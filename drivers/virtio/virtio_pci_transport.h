#pragma once
// The virtio 1.x PCI transport on a real function: its four regions found
// (lib/virtio_pci_capabilities.h), checked against the BARs they name and
// mapped uncached (arch::map_mmio, never unmapped: a device is set up once).

#include <drivers/pci/pci_device.h>
#include <drivers/virtio/lib/virtio_common_config.h>
#include <drivers/virtio/lib/virtio_pci_capabilities.h>
#include <kernel/lib/error_or.h>

namespace tessera {

// VirtioCommonConfig over the mapped common configuration region.
class VirtioMmioCommonConfig final : public VirtioCommonConfig {
public:
    VirtioMmioCommonConfig() = default;
    explicit VirtioMmioCommonConfig(volatile uint8_t* base)
        : m_base(base)
    {
    }
    uint8_t read8(uint32_t offset) override { return m_base[offset]; }
    uint16_t read16(uint32_t offset) override { return *reinterpret_cast<volatile uint16_t*>(m_base + offset); }
    uint32_t read32(uint32_t offset) override { return *reinterpret_cast<volatile uint32_t*>(m_base + offset); }
    void write8(uint32_t offset, uint8_t value) override { m_base[offset] = value; }
    void write16(uint32_t offset, uint16_t value) override
    {
        *reinterpret_cast<volatile uint16_t*>(m_base + offset) = value;
    }
    void write32(uint32_t offset, uint32_t value) override
    {
        *reinterpret_cast<volatile uint32_t*>(m_base + offset) = value;
    }

private:
    volatile uint8_t* m_base { nullptr };
};

struct VirtioPciTransport {
    VirtioPciLayout layout;
    VirtioMmioCommonConfig common;
    volatile uint8_t* notify { nullptr };
    volatile uint8_t* isr { nullptr };
    volatile uint8_t* device { nullptr }; // nullptr if the device has no configuration
};

// ENOENT: not a modern (1.x) device. EINVAL: a capability or region the
// checks refuse. Memory decode and bus mastering are switched on.
ErrorOr<VirtioPciTransport> virtio_pci_transport_map(const PciDevice& device);

// Tells the device queue `queue_index` has new buffers.
ErrorOr<void> virtio_pci_notify(const VirtioPciTransport& transport, uint16_t queue_index, uint16_t notify_off);

// Reads the ISR status, which also clears it (and lowers INTx): bit 0 a
// queue interrupt, bit 1 a configuration change.
inline uint8_t virtio_pci_read_isr(const VirtioPciTransport& transport) { return *transport.isr; }

// Copies the first `size` bytes of the device configuration, retrying
// while the device changes it under us (config_generation).
ErrorOr<void> virtio_pci_read_device_config(VirtioPciTransport& transport, uint8_t* out, size_t size);

} // namespace tessera
