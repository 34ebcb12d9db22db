// The virtio 1.x PCI capabilities (drivers/virtio/lib/virtio_pci_capabilities.h),
// against a configuration space shaped like QEMU's virtio-net-pci: common at
// BAR4+0, ISR at BAR4+0x1000, device at BAR4+0x2000, notify at BAR4+0x3000
// with multiplier 4, and an MSI-X capability in between.
#include <drivers/pci/lib/capability_list.h>
#include <drivers/virtio/lib/virtio_pci_capabilities.h>

#include <fake_pci_config_space.h>
#include <gtest/gtest.h>

using namespace tessera;
using tessera::test::FakePciConfigSpace;

namespace {

void put_virtio_cap(FakePciConfigSpace& config, uint8_t at, uint8_t type, uint8_t bar, uint32_t offset, uint32_t length,
    uint8_t cap_length = 16)
{
    config.put8(at + 2, cap_length);
    config.put8(at + 3, type);
    config.put8(at + 4, bar);
    config.put32(at + 8, offset);
    config.put32(at + 12, length);
}

FakePciConfigSpace qemu_like()
{
    FakePciConfigSpace config;
    config.set_capabilities({ { 0x98, pci_capability_id::msix }, { 0x84, pci_capability_id::vendor_specific },
        { 0x70, pci_capability_id::vendor_specific }, { 0x60, pci_capability_id::vendor_specific },
        { 0x50, pci_capability_id::vendor_specific }, { 0x40, pci_capability_id::vendor_specific } });
    put_virtio_cap(config, 0x84, virtio_pci_cap_type::pci_config, 0, 0, 0, 20);
    put_virtio_cap(config, 0x70, virtio_pci_cap_type::notify, 4, 0x3000, 0x1000, 20);
    config.put32(0x70 + 16, 4);
    put_virtio_cap(config, 0x60, virtio_pci_cap_type::device, 4, 0x2000, 0x1000);
    put_virtio_cap(config, 0x50, virtio_pci_cap_type::isr, 4, 0x1000, 0x1000);
    put_virtio_cap(config, 0x40, virtio_pci_cap_type::common, 4, 0x0000, 0x1000);
    return config;
}

PciBar bar4(uint64_t size = 0x4000) { return PciBar { PciBarKind::Memory64, 4, 0xfe00'0000, size, true }; }

TEST(VirtioPciCapabilities, FindsAllFourRegions)
{
    auto config = qemu_like();
    auto layout = MUST(virtio_pci_read_layout(config));
    EXPECT_TRUE(layout.common.present);
    EXPECT_EQ(layout.common.bar, 4);
    EXPECT_EQ(layout.common.offset, 0u);
    EXPECT_EQ(layout.isr.offset, 0x1000u);
    EXPECT_EQ(layout.device.offset, 0x2000u);
    EXPECT_EQ(layout.notify.offset, 0x3000u);
    EXPECT_EQ(layout.notify_off_multiplier, 4u);
    EXPECT_FALSE(virtio_pci_check_region(layout.common, bar4(), virtio_common_config_min_length).is_error());
    EXPECT_EQ(MUST(virtio_pci_notify_offset(layout, 1)), 4u);
}

TEST(VirtioPciCapabilities, FirstOfEachTypeWins)
{
    auto config = qemu_like();
    // Turn the device capability into a second common one: 0x60 comes before
    // 0x40 in list order, so it is the one used.
    put_virtio_cap(config, 0x60, virtio_pci_cap_type::common, 4, 0x2000, 0x1000);
    auto layout = MUST(virtio_pci_read_layout(config));
    EXPECT_EQ(layout.common.offset, 0x2000u);
    EXPECT_FALSE(layout.device.present);
}

TEST(VirtioPciCapabilities, LegacyDeviceHasNoModernLayout)
{
    FakePciConfigSpace config;
    config.set_capabilities({ { 0x40, pci_capability_id::msix } });
    auto layout = virtio_pci_read_layout(config);
    ASSERT_TRUE(layout.is_error());
    EXPECT_EQ(layout.error().code(), Errno::NOENT);
}

TEST(VirtioPciCapabilities, RefusesShortCapabilityAndBadBar)
{
    auto short_cap = qemu_like();
    short_cap.put8(0x50 + 2, 12);
    EXPECT_EQ(virtio_pci_read_layout(short_cap).error().code(), Errno::INVAL);

    auto short_notify = qemu_like();
    short_notify.put8(0x70 + 2, 16); // no room for the multiplier
    EXPECT_EQ(virtio_pci_read_layout(short_notify).error().code(), Errno::INVAL);

    auto bad_bar = qemu_like();
    bad_bar.put8(0x40 + 4, 6);
    EXPECT_EQ(virtio_pci_read_layout(bad_bar).error().code(), Errno::INVAL);
}

TEST(VirtioPciCapabilities, MalformedListIsAnError)
{
    auto config = qemu_like();
    config.put8(0x40 + 1, 0x98); // loop back to the first entry
    EXPECT_EQ(virtio_pci_read_layout(config).error().code(), Errno::INVAL);
}

TEST(VirtioPciCapabilities, RegionMustFitItsBar)
{
    auto config = qemu_like();
    auto layout = MUST(virtio_pci_read_layout(config));
    // Notify at 0x3000 + 0x1000 ends exactly at a 16 KiB BAR; one byte less is out.
    EXPECT_FALSE(virtio_pci_check_region(layout.notify, bar4(0x4000), 2).is_error());
    EXPECT_TRUE(virtio_pci_check_region(layout.notify, bar4(0x3fff + 1 - 0x10), 2).is_error());
    // Offset + length overflowing 32 bits must not wrap into the BAR.
    VirtioPciRegion wrap { true, 4, 0xffff'f000, 0x2000 };
    EXPECT_TRUE(virtio_pci_check_region(wrap, bar4(), 1).is_error());
    // Too short for the structure, an I/O BAR, an unassigned BAR.
    EXPECT_TRUE(virtio_pci_check_region(layout.common, bar4(), 0x2000).is_error());
    EXPECT_TRUE(virtio_pci_check_region(layout.common, PciBar { PciBarKind::Io, 4, 0xc000, 0, false }, 1).is_error());
    EXPECT_TRUE(
        virtio_pci_check_region(layout.common, PciBar { PciBarKind::Memory32, 4, 0, 0x4000, false }, 1).is_error());
}

TEST(VirtioPciCapabilities, NotifyOffsetBounded)
{
    auto config = qemu_like();
    auto layout = MUST(virtio_pci_read_layout(config));
    EXPECT_EQ(MUST(virtio_pci_notify_offset(layout, 0x3ff)), 0xffcu);
    EXPECT_TRUE(virtio_pci_notify_offset(layout, 0x400).is_error()); // 0x1000: no room for 2 bytes
    layout.notify_off_multiplier = 0xffff'ffff;
    EXPECT_TRUE(virtio_pci_notify_offset(layout, 0xffff).is_error());
}

} // namespace
