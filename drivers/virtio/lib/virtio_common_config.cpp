#include <drivers/virtio/lib/virtio_common_config.h>

namespace tessera {

namespace {

void add_status(VirtioCommonConfig& config, uint8_t bits)
{
    config.write8(
        virtio_common::device_status, static_cast<uint8_t>(config.read8(virtio_common::device_status) | bits));
}

uint64_t read_device_features(VirtioCommonConfig& config)
{
    config.write32(virtio_common::device_feature_select, 0);
    uint64_t low = config.read32(virtio_common::device_feature);
    config.write32(virtio_common::device_feature_select, 1);
    uint64_t high = config.read32(virtio_common::device_feature);
    return low | high << 32;
}

void write_driver_features(VirtioCommonConfig& config, uint64_t features)
{
    config.write32(virtio_common::driver_feature_select, 0);
    config.write32(virtio_common::driver_feature, static_cast<uint32_t>(features));
    config.write32(virtio_common::driver_feature_select, 1);
    config.write32(virtio_common::driver_feature, static_cast<uint32_t>(features >> 32));
}

void write64(VirtioCommonConfig& config, uint32_t offset, uint64_t value)
{
    config.write32(offset, static_cast<uint32_t>(value));
    config.write32(offset + 4, static_cast<uint32_t>(value >> 32));
}

} // namespace

ErrorOr<uint64_t> virtio_negotiate(VirtioCommonConfig& config, uint64_t supported, uint64_t required)
{
    // Writing 0 resets; the reset is complete when status reads back 0.
    config.write8(virtio_common::device_status, 0);
    for (int i = 0; i < 1000000 && config.read8(virtio_common::device_status) != 0; ++i) { }
    if (config.read8(virtio_common::device_status) != 0)
        return Error(Errno::IO, "virtio: device did not reset");
    add_status(config, virtio_status::acknowledge);
    add_status(config, virtio_status::driver);
    uint64_t offered = read_device_features(config);
    uint64_t accepted = offered & supported;
    if ((accepted & required) != required) {
        virtio_fail(config);
        return Error(Errno::NODEV, "virtio: device lacks a required feature");
    }
    write_driver_features(config, accepted);
    add_status(config, virtio_status::features_ok);
    if ((config.read8(virtio_common::device_status) & virtio_status::features_ok) == 0) {
        virtio_fail(config);
        return Error(Errno::NODEV, "virtio: device refused the feature set");
    }
    return accepted;
}

ErrorOr<VirtioQueueInfo> virtio_queue_query(VirtioCommonConfig& config, const VirtioQueueSetup& setup)
{
    if (setup.index >= config.read16(virtio_common::num_queues))
        return Error(Errno::NOENT, "virtio: no such queue");
    config.write16(virtio_common::queue_select, setup.index);
    uint16_t device_size = config.read16(virtio_common::queue_size);
    if (device_size == 0)
        return Error(Errno::NOENT, "virtio: queue not available");
    if ((device_size & (device_size - 1)) != 0)
        return Error(Errno::INVAL, "virtio: queue size not a power of two");
    uint16_t size = device_size < setup.max_size ? device_size : setup.max_size;
    // max_size is a power of two too (the caller's), so the minimum is.
    return VirtioQueueInfo { size, config.read16(virtio_common::queue_notify_off) };
}

ErrorOr<void> virtio_queue_enable(VirtioCommonConfig& config, const VirtioQueueSetup& setup,
    const VirtioQueueInfo& info, const VirtioQueueAddresses& addresses)
{
    config.write16(virtio_common::queue_select, setup.index);
    config.write16(virtio_common::queue_size, info.size);
    config.write16(virtio_common::queue_msix_vector, setup.msix_vector);
    if (config.read16(virtio_common::queue_msix_vector) != setup.msix_vector)
        return Error(Errno::IO, "virtio: device refused the queue's MSI-X vector");
    write64(config, virtio_common::queue_desc, addresses.descriptors);
    write64(config, virtio_common::queue_driver, addresses.driver);
    write64(config, virtio_common::queue_device, addresses.device);
    config.write16(virtio_common::queue_enable, 1);
    return {};
}

ErrorOr<void> virtio_set_config_vector(VirtioCommonConfig& config, uint16_t vector)
{
    config.write16(virtio_common::msix_config, vector);
    if (config.read16(virtio_common::msix_config) != vector)
        return Error(Errno::IO, "virtio: device refused the config MSI-X vector");
    return {};
}

void virtio_driver_ok(VirtioCommonConfig& config) { add_status(config, virtio_status::driver_ok); }

void virtio_fail(VirtioCommonConfig& config) { add_status(config, virtio_status::failed); }

} // namespace tessera
