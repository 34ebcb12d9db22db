#pragma once
// The virtio 1.x PCI transport's layout: where a function keeps its common
// configuration, notification area, ISR status and device configuration.
// [virtio 1.1]: 4.1.4 "Virtio Structure PCI Capabilities": each is a
// vendor-specific capability (id 0x09) with cfg_type at +3, the BAR at +4,
// a 32-bit offset at +8 and length at +12; the notify capability adds
// notify_off_multiplier at +16.
//
// Everything here comes from the device and is checked: a capability too
// short for its type, a BAR index above 5, a region that does not fit its
// BAR (or whose end overflows) is refused. The first capability of each
// type is used ("the driver SHOULD use the first instance").

#include <drivers/pci/lib/pci_bar.h>
#include <drivers/pci/lib/pci_config_space.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

namespace virtio_pci_cap_type {
constexpr uint8_t common = 1;
constexpr uint8_t notify = 2;
constexpr uint8_t isr = 3;
constexpr uint8_t device = 4;
constexpr uint8_t pci_config = 5;
} // namespace virtio_pci_cap_type

constexpr uint8_t virtio_pci_cap_length = 16;
constexpr uint8_t virtio_pci_notify_cap_length = 20;
constexpr uint8_t virtio_pci_max_bar = 5;
// The smallest region a driver can use for each type: the 1.x common
// configuration is 0x38 bytes, the ISR one byte, a notify register two.
constexpr uint32_t virtio_common_config_min_length = 0x38;

struct VirtioPciRegion {
    bool present { false };
    uint8_t bar { 0 };
    uint32_t offset { 0 };
    uint32_t length { 0 };
};

struct VirtioPciLayout {
    VirtioPciRegion common;
    VirtioPciRegion notify;
    VirtioPciRegion isr;
    VirtioPciRegion device; // absent for devices without configuration
    uint32_t notify_off_multiplier { 0 };
};

// Walks the capability list and collects the four regions. ENOENT: no
// common, notify or ISR capability (a legacy-only device). EINVAL: a
// malformed list or capability.
ErrorOr<VirtioPciLayout> virtio_pci_read_layout(PciConfigSpace& config);

// Checks that `region` lies inside `bar`, an assigned memory BAR, and is at
// least `min_length` long. EINVAL otherwise.
ErrorOr<void> virtio_pci_check_region(const VirtioPciRegion& region, const PciBar& bar, uint32_t min_length);

// The byte offset within the notify region of queue notify offset
// `queue_notify_off`, checked to leave room for the 16-bit write. EINVAL
// when it falls outside the region (or overflows).
ErrorOr<uint32_t> virtio_pci_notify_offset(const VirtioPciLayout& layout, uint16_t queue_notify_off);

} // namespace tessera
