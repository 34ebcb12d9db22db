// The capability-list walker (drivers/pci/lib/capability_list.h) on forged
// configuration spaces: a good list, and every way a device can break one.
#include <drivers/pci/lib/capability_list.h>
#include <drivers/pci/lib/pci_address.h>

#include <fake_pci_config_space.h>
#include <gtest/gtest.h>

#include <vector>

using namespace tessera;
using tessera::test::FakePciConfigSpace;

namespace {

std::vector<PciCapability> walk(FakePciConfigSpace& config, ErrorOr<void>& result)
{
    std::vector<PciCapability> seen;
    result = pci_walk_capabilities(config, [&](PciCapability capability) {
        seen.push_back(capability);
        return true;
    });
    return seen;
}

TEST(PciCapabilityList, WalksAGoodListInOrder)
{
    FakePciConfigSpace config;
    config.set_capabilities({ { 0x98, pci_capability_id::msix }, { 0x84, pci_capability_id::vendor_specific },
        { 0x40, pci_capability_id::msi } });
    ErrorOr<void> result;
    auto seen = walk(config, result);
    ASSERT_FALSE(result.is_error());
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0].offset, 0x98);
    EXPECT_EQ(seen[0].id, pci_capability_id::msix);
    EXPECT_EQ(seen[1].offset, 0x84);
    EXPECT_EQ(seen[2].offset, 0x40);
    EXPECT_EQ(MUST(pci_find_capability(config, pci_capability_id::msi)), 0x40);
    EXPECT_EQ(MUST(pci_find_capability(config, pci_capability_id::msix)), 0x98);
}

TEST(PciCapabilityList, AbsentCapabilityIsNoEntry)
{
    FakePciConfigSpace config;
    config.set_capabilities({ { 0x40, pci_capability_id::power_management } });
    auto found = pci_find_capability(config, pci_capability_id::msi);
    ASSERT_TRUE(found.is_error());
    EXPECT_EQ(found.error().code(), Errno::NOENT);
}

TEST(PciCapabilityList, NoListWhenStatusBitClear)
{
    FakePciConfigSpace config;
    config.put8(pci_register::capabilities_pointer, 0x40); // ignored: the status bit rules
    config.put8(0x40, pci_capability_id::msi);
    auto found = pci_find_capability(config, pci_capability_id::msi);
    ASSERT_TRUE(found.is_error());
    EXPECT_EQ(found.error().code(), Errno::NOENT);
}

TEST(PciCapabilityList, EmptyListWithStatusBitSet)
{
    FakePciConfigSpace config;
    config.set_capabilities({});
    ErrorOr<void> result;
    EXPECT_TRUE(walk(config, result).empty());
    EXPECT_FALSE(result.is_error());
}

TEST(PciCapabilityList, SelfLoopEndsWithError)
{
    FakePciConfigSpace config;
    config.set_capabilities({ { 0x40, pci_capability_id::vendor_specific } });
    config.put8(0x41, 0x40);
    ErrorOr<void> result;
    auto seen = walk(config, result);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), Errno::INVAL);
    EXPECT_EQ(seen.size(), 1u);
}

TEST(PciCapabilityList, LongerLoopEndsWithErrorAndFindDoesNotHang)
{
    FakePciConfigSpace config;
    config.set_capabilities({ { 0x40, pci_capability_id::power_management },
        { 0x50, pci_capability_id::vendor_specific }, { 0x60, pci_capability_id::pci_express } });
    config.put8(0x61, 0x50); // 0x40 -> 0x50 -> 0x60 -> 0x50 ...
    auto found = pci_find_capability(config, pci_capability_id::msi);
    ASSERT_TRUE(found.is_error());
    EXPECT_EQ(found.error().code(), Errno::INVAL);
}

TEST(PciCapabilityList, MisalignedPointerIsRefused)
{
    FakePciConfigSpace config;
    config.set_capabilities({ { 0x40, pci_capability_id::power_management } });
    config.put8(0x41, 0x52); // low bits reserved, must be 00b
    config.put8(0x52, pci_capability_id::msi);
    auto found = pci_find_capability(config, pci_capability_id::msi);
    ASSERT_TRUE(found.is_error());
    EXPECT_EQ(found.error().code(), Errno::INVAL);

    FakePciConfigSpace first;
    first.set_capabilities({});
    first.put8(pci_register::capabilities_pointer, 0x41);
    EXPECT_EQ(pci_find_capability(first, pci_capability_id::msi).error().code(), Errno::INVAL);
}

TEST(PciCapabilityList, PointerIntoTheHeaderIsRefused)
{
    FakePciConfigSpace config;
    config.set_capabilities({ { 0x40, pci_capability_id::power_management } });
    config.put8(0x41, 0x10); // would read a BAR as a capability
    ErrorOr<void> result;
    auto seen = walk(config, result);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), Errno::INVAL);
    EXPECT_EQ(seen.size(), 1u);

    FakePciConfigSpace first;
    first.set_capabilities({});
    first.put8(pci_register::capabilities_pointer, 0x3c);
    EXPECT_EQ(pci_find_capability(first, pci_capability_id::msi).error().code(), Errno::INVAL);
}

TEST(PciCapabilityList, FullestPossibleListIsAccepted)
{
    FakePciConfigSpace config;
    std::vector<std::pair<uint8_t, uint8_t>> list;
    for (unsigned offset = 0x40; offset < 0x100; offset += 4)
        list.push_back({ static_cast<uint8_t>(offset), pci_capability_id::vendor_specific });
    list.back().second = pci_capability_id::msi;
    config.set_capabilities(list);
    ASSERT_EQ(list.size(), pci_capability_max_entries);
    EXPECT_EQ(MUST(pci_find_capability(config, pci_capability_id::msi)), 0xfc);
}

TEST(PciCapabilityList, VisitorStopsTheWalk)
{
    FakePciConfigSpace config;
    config.set_capabilities({ { 0x40, 1 }, { 0x44, 2 }, { 0x48, 3 } });
    config.put8(0x49, 0x48); // a loop after the stop is never reached
    int visits = 0;
    auto result = pci_walk_capabilities(config, [&](PciCapability) { return ++visits < 2; });
    EXPECT_FALSE(result.is_error());
    EXPECT_EQ(visits, 2);
}

TEST(PciAddress, ConfigAddressEncoding)
{
    EXPECT_EQ(pci_config_address({ 0, 0, 0 }, 0), 0x8000'0000u);
    EXPECT_EQ(pci_config_address({ 0xab, 0x1f, 0x7 }, 0xff), 0x80ab'fffcu);
    EXPECT_EQ(pci_config_address({ 1, 2, 3 }, 0x10), 0x8001'1310u);
    EXPECT_TRUE((PciAddress { 0, 31, 7 }).is_valid());
    EXPECT_FALSE((PciAddress { 0, 32, 0 }).is_valid());
    EXPECT_FALSE((PciAddress { 0, 0, 8 }).is_valid());
}

} // namespace
