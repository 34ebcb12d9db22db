#include <drivers/pci/lib/capability_list.h>
#include <drivers/virtio/lib/virtio_pci_capabilities.h>
#include <kernel/lib/optional.h>

namespace tessera {

namespace {

ErrorOr<void> read_capability(PciConfigSpace& config, uint8_t offset, VirtioPciLayout& layout)
{
    uint8_t length = config.read8(static_cast<uint8_t>(offset + 2));
    uint8_t type = config.read8(static_cast<uint8_t>(offset + 3));
    if (type < virtio_pci_cap_type::common || type > virtio_pci_cap_type::device)
        return {}; // PCI config access, shared memory, vendor data: not used here
    if (length < virtio_pci_cap_length || offset + size_t { virtio_pci_cap_length } > pci_config_space_size)
        return Error(Errno::INVAL, "virtio: capability shorter than 16 bytes");
    VirtioPciRegion* slot = nullptr;
    switch (type) {
    case virtio_pci_cap_type::common:
        slot = &layout.common;
        break;
    case virtio_pci_cap_type::notify:
        slot = &layout.notify;
        break;
    case virtio_pci_cap_type::isr:
        slot = &layout.isr;
        break;
    default:
        slot = &layout.device;
        break;
    }
    if (slot->present)
        return {};
    VirtioPciRegion region;
    region.present = true;
    region.bar = config.read8(static_cast<uint8_t>(offset + 4));
    region.offset = config.read32(static_cast<uint8_t>(offset + 8));
    region.length = config.read32(static_cast<uint8_t>(offset + 12));
    if (region.bar > virtio_pci_max_bar)
        return Error(Errno::INVAL, "virtio: capability names a BAR above 5");
    if (type == virtio_pci_cap_type::notify) {
        if (length < virtio_pci_notify_cap_length
            || offset + size_t { virtio_pci_notify_cap_length } > pci_config_space_size)
            return Error(Errno::INVAL, "virtio: notify capability shorter than 20 bytes");
        layout.notify_off_multiplier = config.read32(static_cast<uint8_t>(offset + 16));
    }
    *slot = region;
    return {};
}

} // namespace

ErrorOr<VirtioPciLayout> virtio_pci_read_layout(PciConfigSpace& config)
{
    VirtioPciLayout layout;
    Optional<Error> failure;
    TRY(pci_walk_capabilities(config, [&](PciCapability capability) {
        if (capability.id != pci_capability_id::vendor_specific)
            return true;
        auto result = read_capability(config, capability.offset, layout);
        if (result.is_error()) {
            failure = result.release_error();
            return false;
        }
        return true;
    }));
    if (failure.has_value())
        return failure.value();
    if (!layout.common.present || !layout.notify.present || !layout.isr.present)
        return Error(Errno::NOENT, "virtio: no modern (1.x) capabilities");
    return layout;
}

ErrorOr<void> virtio_pci_check_region(const VirtioPciRegion& region, const PciBar& bar, uint32_t min_length)
{
    if (!region.present)
        return Error(Errno::INVAL, "virtio: region absent");
    if (!bar.is_memory() || bar.address == 0)
        return Error(Errno::INVAL, "virtio: region in an I/O or unassigned BAR");
    if (region.length < min_length)
        return Error(Errno::INVAL, "virtio: region shorter than its structure");
    uint64_t end = uint64_t { region.offset } + region.length;
    if (end > bar.size)
        return Error(Errno::INVAL, "virtio: region runs past its BAR");
    return {};
}

ErrorOr<uint32_t> virtio_pci_notify_offset(const VirtioPciLayout& layout, uint16_t queue_notify_off)
{
    uint64_t offset = uint64_t { queue_notify_off } * layout.notify_off_multiplier;
    if (offset + 2 > layout.notify.length)
        return Error(Errno::INVAL, "virtio: queue notify offset past the notify region");
    return static_cast<uint32_t>(offset);
}

} // namespace tessera
