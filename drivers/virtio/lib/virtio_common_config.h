#pragma once
// The virtio 1.x PCI common configuration structure and the driver side of
// device initialisation. [virtio 1.1]: 4.1.4.3 "Common configuration
// structure layout" for the offsets; 3.1.1 "Driver Requirements: Device
// Initialization" for the order: reset, ACKNOWLEDGE, DRIVER, read the
// features, write the subset understood, FEATURES_OK, re-read it (the
// device may refuse), set up the queues, DRIVER_OK. Any failure after the
// reset sets FAILED, so the device stops expecting anything of us.
//
// The registers are reached through VirtioCommonConfig: MMIO in the
// kernel, a simulated device in the host tests.

#include <drivers/virtio/lib/virtio_features.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

namespace virtio_common {
constexpr uint32_t device_feature_select = 0x00;
constexpr uint32_t device_feature = 0x04;
constexpr uint32_t driver_feature_select = 0x08;
constexpr uint32_t driver_feature = 0x0c;
constexpr uint32_t msix_config = 0x10;
constexpr uint32_t num_queues = 0x12;
constexpr uint32_t device_status = 0x14;
constexpr uint32_t config_generation = 0x15;
constexpr uint32_t queue_select = 0x16;
constexpr uint32_t queue_size = 0x18;
constexpr uint32_t queue_msix_vector = 0x1a;
constexpr uint32_t queue_enable = 0x1c;
constexpr uint32_t queue_notify_off = 0x1e;
constexpr uint32_t queue_desc = 0x20;
constexpr uint32_t queue_driver = 0x28;
constexpr uint32_t queue_device = 0x30;
} // namespace virtio_common

// [virtio 1.1]: 2.1 "Device Status Field".
namespace virtio_status {
constexpr uint8_t acknowledge = 1;
constexpr uint8_t driver = 2;
constexpr uint8_t driver_ok = 4;
constexpr uint8_t features_ok = 8;
constexpr uint8_t device_needs_reset = 64;
constexpr uint8_t failed = 128;
} // namespace virtio_status

// "No vector": the device signals this queue or config change by no MSI-X message.
constexpr uint16_t virtio_msi_no_vector = 0xffff;

class VirtioCommonConfig {
public:
    virtual uint8_t read8(uint32_t offset) = 0;
    virtual uint16_t read16(uint32_t offset) = 0;
    virtual uint32_t read32(uint32_t offset) = 0;
    virtual void write8(uint32_t offset, uint8_t value) = 0;
    virtual void write16(uint32_t offset, uint16_t value) = 0;
    virtual void write32(uint32_t offset, uint32_t value) = 0;

protected:
    ~VirtioCommonConfig() = default;
};

// Resets the device, announces the driver and negotiates: accepts
// `device & supported` and fails (ENODEV, status FAILED) unless that
// includes every `required` bit and the device keeps FEATURES_OK set.
// Returns the accepted features.
ErrorOr<uint64_t> virtio_negotiate(VirtioCommonConfig& config, uint64_t supported, uint64_t required);

struct VirtioQueueSetup {
    uint16_t index;
    uint16_t max_size; // the driver's limit; the queue gets min(this, the device's)
    uint16_t msix_vector; // virtio_msi_no_vector for INTx
};
struct VirtioQueueAddresses {
    uint64_t descriptors;
    uint64_t driver; // the available ring
    uint64_t device; // the used ring
};
struct VirtioQueueInfo {
    uint16_t size;
    uint16_t notify_off;
};

// Reads queue `setup.index`'s size: ENOENT if the device has no such queue
// (size 0), EINVAL if its size is not a power of two.
ErrorOr<VirtioQueueInfo> virtio_queue_query(VirtioCommonConfig& config, const VirtioQueueSetup& setup);
// Programs the queue at the size `info.size` with `addresses` and its MSI-X
// vector, checks the device took the vector (EIO if it answers NO_VECTOR)
// and enables it.
ErrorOr<void> virtio_queue_enable(VirtioCommonConfig& config, const VirtioQueueSetup& setup,
    const VirtioQueueInfo& info, const VirtioQueueAddresses& addresses);

// Routes configuration-change interrupts to MSI-X entry `vector`; EIO if
// the device refuses it.
ErrorOr<void> virtio_set_config_vector(VirtioCommonConfig& config, uint16_t vector);

// Sets DRIVER_OK: the device is live.
void virtio_driver_ok(VirtioCommonConfig& config);
// Sets FAILED (after an error during initialisation or a broken ring).
void virtio_fail(VirtioCommonConfig& config);

} // namespace tessera
