// BAR decoding and size probing (drivers/pci/lib/pci_bar.h) against a fake
// configuration space whose BARs behave like hardware.
#include <drivers/pci/lib/pci_bar.h>

#include <fake_pci_config_space.h>
#include <gtest/gtest.h>

using namespace tessera;
using tessera::test::FakePciConfigSpace;

namespace {

TEST(PciBar, Memory32IsSized)
{
    FakePciConfigSpace config;
    config.set_memory_bar(0, 0xfea0'0000, 1 << 20);
    auto bar = MUST(pci_probe_bar(config, 0));
    EXPECT_EQ(bar.kind, PciBarKind::Memory32);
    EXPECT_EQ(bar.address, 0xfea0'0000u);
    EXPECT_EQ(bar.size, 1u << 20);
    EXPECT_FALSE(bar.prefetchable);
    EXPECT_EQ(config.get32(0x10), 0xfea0'0000u); // restored
}

TEST(PciBar, Memory64AboveFourGigabytesIsSized)
{
    FakePciConfigSpace config;
    config.set_memory_bar(4, 0x8'0000'4000ull, 0x4000, true, true);
    auto bar = MUST(pci_probe_bar(config, 4));
    EXPECT_EQ(bar.kind, PciBarKind::Memory64);
    EXPECT_EQ(bar.address, 0x8'0000'4000ull);
    EXPECT_EQ(bar.size, 0x4000u);
    EXPECT_TRUE(bar.prefetchable);
    EXPECT_EQ(config.get32(0x20), 0x0000'400cu);
    EXPECT_EQ(config.get32(0x24), 0x8u);
}

TEST(PciBar, Memory64LargerThanFourGigabytes)
{
    FakePciConfigSpace config;
    config.set_memory_bar(0, 0x10'0000'0000ull, 0x2'0000'0000ull, true);
    auto bar = MUST(pci_probe_bar(config, 0));
    EXPECT_EQ(bar.size, 0x2'0000'0000ull);
}

TEST(PciBar, DecodingIsOffWhileTheBarHoldsAllOnesAndRestoredAfter)
{
    FakePciConfigSpace config;
    config.put16(pci_register::command, pci_command::memory_space | pci_command::bus_master);
    config.set_memory_bar(2, 0xc000'0000, 0x1000, true);
    config.clear_writes();
    MUST(pci_probe_bar(config, 2));
    int all_ones = 0;
    for (auto& write : config.writes()) {
        if ((write.offset == 0x18 || write.offset == 0x1c) && write.value == 0xffff'ffffu) {
            ++all_ones;
            EXPECT_EQ(write.command_at_write & pci_command::memory_space, 0);
        }
    }
    EXPECT_EQ(all_ones, 2);
    EXPECT_EQ(config.get16(pci_register::command), pci_command::memory_space | pci_command::bus_master);
}

TEST(PciBar, UnimplementedBarIsNoEntry)
{
    FakePciConfigSpace config;
    auto bar = pci_probe_bar(config, 3);
    ASSERT_TRUE(bar.is_error());
    EXPECT_EQ(bar.error().code(), Errno::NOENT);
}

TEST(PciBar, IoBarIsReportedNotSized)
{
    FakePciConfigSpace config;
    config.set_raw_bar(1, 0xc041, 0xffe0);
    auto bar = MUST(pci_probe_bar(config, 1));
    EXPECT_EQ(bar.kind, PciBarKind::Io);
    EXPECT_EQ(bar.address, 0xc040u);
    EXPECT_EQ(bar.size, 0u);
    EXPECT_FALSE(bar.is_memory());
}

TEST(PciBar, Memory64InTheLastSlotIsRefused)
{
    FakePciConfigSpace config;
    config.set_raw_bar(5, 0x4, 0xffff'f000);
    EXPECT_EQ(pci_probe_bar(config, 5).error().code(), Errno::INVAL);
}

TEST(PciBar, ReservedTypeIsRefused)
{
    FakePciConfigSpace config;
    config.set_raw_bar(0, 0x6, 0xffff'f000); // type 11b
    EXPECT_EQ(pci_probe_bar(config, 0).error().code(), Errno::INVAL);
    config.set_raw_bar(0, 0x2, 0xffff'f000); // type 01b (below 1 MiB, obsolete)
    EXPECT_EQ(pci_probe_bar(config, 0).error().code(), Errno::INVAL);
}

TEST(PciBar, NonContiguousSizeMaskIsRefused)
{
    FakePciConfigSpace config;
    config.set_raw_bar(0, 0xe000'0000, 0xfff0'f000);
    EXPECT_EQ(pci_probe_bar(config, 0).error().code(), Errno::INVAL);
}

TEST(PciBar, AddressNotAlignedToSizeIsRefused)
{
    FakePciConfigSpace config;
    // Reads back a 64 KiB mask but holds an address aligned only to 4 KiB.
    config.set_raw_bar(0, 0xe000'1000, 0xffff'0000);
    EXPECT_EQ(pci_probe_bar(config, 0).error().code(), Errno::INVAL);
}

TEST(PciBar, IndexPastTheHeaderIsRefused)
{
    FakePciConfigSpace config;
    EXPECT_EQ(pci_probe_bar(config, 6).error().code(), Errno::INVAL);
    config.put8(pci_register::header_type, pci_header_bridge | pci_header_multifunction);
    config.set_memory_bar(1, 0xd000'0000, 0x1000);
    EXPECT_EQ(MUST(pci_probe_bar(config, 1)).size, 0x1000u);
    EXPECT_EQ(pci_probe_bar(config, 2).error().code(), Errno::INVAL);
    config.put8(pci_register::header_type, 0x02); // CardBus: no BARs we know
    EXPECT_EQ(pci_probe_bar(config, 0).error().code(), Errno::INVAL);
}

} // namespace
