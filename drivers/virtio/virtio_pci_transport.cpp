#include <arch/paging.h>
#include <drivers/virtio/virtio_pci_transport.h>

namespace tessera {

namespace {

ErrorOr<volatile uint8_t*> map_region(const PciDevice& device, const VirtioPciRegion& region, uint32_t min_length)
{
    auto bar = TRY(device.bar(region.bar));
    TRY(virtio_pci_check_region(region, bar, min_length));
    auto* base = TRY(arch::map_mmio(bar.address + region.offset, region.length));
    return static_cast<volatile uint8_t*>(base);
}

} // namespace

ErrorOr<VirtioPciTransport> virtio_pci_transport_map(const PciDevice& device)
{
    auto config = device.config();
    VirtioPciTransport transport;
    transport.layout = TRY(virtio_pci_read_layout(config));
    device.enable_command(pci_command::memory_space | pci_command::bus_master);
    transport.common
        = VirtioMmioCommonConfig(TRY(map_region(device, transport.layout.common, virtio_common_config_min_length)));
    transport.notify = TRY(map_region(device, transport.layout.notify, 2));
    transport.isr = TRY(map_region(device, transport.layout.isr, 1));
    if (transport.layout.device.present)
        transport.device = TRY(map_region(device, transport.layout.device, 1));
    return transport;
}

ErrorOr<void> virtio_pci_notify(const VirtioPciTransport& transport, uint16_t queue_index, uint16_t notify_off)
{
    uint32_t offset = TRY(virtio_pci_notify_offset(transport.layout, notify_off));
    *reinterpret_cast<volatile uint16_t*>(transport.notify + offset) = queue_index;
    return {};
}

ErrorOr<void> virtio_pci_read_device_config(VirtioPciTransport& transport, uint8_t* out, size_t size)
{
    if (transport.device == nullptr || size > transport.layout.device.length)
        return Error(Errno::INVAL, "virtio: device configuration too short");
    for (int attempt = 0; attempt < 100; ++attempt) {
        uint8_t before = transport.common.read8(virtio_common::config_generation);
        for (size_t i = 0; i < size; ++i)
            out[i] = transport.device[i];
        if (transport.common.read8(virtio_common::config_generation) == before)
            return {};
    }
    return Error(Errno::IO, "virtio: device configuration keeps changing");
}

} // namespace tessera
