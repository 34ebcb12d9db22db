// MSI-X capability decoding, table/BAR validation and table programming
// (drivers/pci/lib/msix_capability.h, msix_table.h).
#include <drivers/pci/lib/capability_list.h>
#include <drivers/pci/lib/msix_capability.h>
#include <drivers/pci/lib/msix_table.h>

#include <fake_pci_config_space.h>
#include <gtest/gtest.h>

#include <vector>

using namespace tessera;
using tessera::test::FakePciConfigSpace;

namespace {

constexpr uint8_t cap = 0x98;

// Shaped like QEMU's virtio-net-pci: 3 entries, table at BAR1+0, PBA at BAR1+0x800.
FakePciConfigSpace with_msix(uint16_t size_minus_one = 2, uint32_t table = 0x0000'0001, uint32_t pba = 0x0000'0801)
{
    FakePciConfigSpace config;
    config.set_capabilities({ { 0x84, pci_capability_id::vendor_specific }, { cap, pci_capability_id::msix } });
    config.put16(cap + 2, size_minus_one);
    config.put32(cap + 4, table);
    config.put32(cap + 8, pba);
    return config;
}

PciBar memory_bar(uint8_t index, uint64_t size, uint64_t address = 0xfeb0'0000)
{
    return PciBar { PciBarKind::Memory32, index, address, size, false };
}

TEST(PciMsix, DecodesSizeBirAndOffsets)
{
    auto config = with_msix();
    auto msix = MUST(pci_find_msix_capability(config));
    EXPECT_EQ(msix.offset, cap);
    EXPECT_EQ(msix.table_size, 3);
    EXPECT_EQ(msix.table_bir, 1);
    EXPECT_EQ(msix.table_offset, 0u);
    EXPECT_EQ(msix.pba_bir, 1);
    EXPECT_EQ(msix.pba_offset, 0x800u);
    EXPECT_EQ(msix.table_bytes(), 48u);
    EXPECT_EQ(msix.pba_bytes(), 8u);
    EXPECT_FALSE(msix.enabled);
    EXPECT_FALSE(msix.function_masked);
    MUST(pci_msix_validate_layout(msix, memory_bar(1, 0x1000), memory_bar(1, 0x1000)));
}

TEST(PciMsix, LargestTable)
{
    auto config = with_msix(0x7ff, 0x2000'0000 | 4, 0x2000'8000 | 4);
    auto msix = MUST(pci_find_msix_capability(config));
    EXPECT_EQ(msix.table_size, 2048);
    EXPECT_EQ(msix.table_bytes(), 0x8000u);
    EXPECT_EQ(msix.pba_bytes(), 256u);
    MUST(pci_msix_validate_layout(msix, memory_bar(4, 0x4000'0000), memory_bar(4, 0x4000'0000)));
}

TEST(PciMsix, ReservedBirIsRefused)
{
    auto config = with_msix(2, 0x6, 0x801);
    EXPECT_EQ(pci_find_msix_capability(config).error().code(), Errno::INVAL);
    auto pba = with_msix(2, 0x1, 0x807);
    EXPECT_EQ(pci_find_msix_capability(pba).error().code(), Errno::INVAL);
}

TEST(PciMsix, CapabilityRunningPastTheSpaceIsRefused)
{
    FakePciConfigSpace config;
    config.set_capabilities({ { 0xf8, pci_capability_id::msix } });
    EXPECT_EQ(pci_find_msix_capability(config).error().code(), Errno::INVAL);
}

TEST(PciMsix, TableOutsideItsBarIsRefused)
{
    auto config = with_msix(2, 0x0000'0ff1, 0x0000'0801);
    auto msix = MUST(pci_find_msix_capability(config));
    auto result = pci_msix_validate_layout(msix, memory_bar(1, 0x1000), memory_bar(1, 0x1000));
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), Errno::INVAL);
    EXPECT_STREQ(result.error().what(), "msix: table runs past the end of its BAR");
}

TEST(PciMsix, TableLargerThanItsBarIsRefused)
{
    auto config = with_msix(0x7ff, 0x1, 0x0);
    auto msix = MUST(pci_find_msix_capability(config));
    EXPECT_STREQ(pci_msix_validate_layout(msix, memory_bar(1, 0x1000), memory_bar(0, 0x1000)).error().what(),
        "msix: table runs past the end of its BAR");
}

TEST(PciMsix, PbaOutsideItsBarIsRefused)
{
    auto config = with_msix(2, 0x1, 0xfffc'0000 | 2);
    auto msix = MUST(pci_find_msix_capability(config));
    EXPECT_STREQ(pci_msix_validate_layout(msix, memory_bar(1, 0x1000), memory_bar(2, 0x1000)).error().what(),
        "msix: PBA runs past the end of its BAR");
}

TEST(PciMsix, OverlappingTableAndPbaAreRefused)
{
    auto config = with_msix(2, 0x1, 0x21); // table 0x0..0x30, PBA at 0x20
    auto msix = MUST(pci_find_msix_capability(config));
    EXPECT_STREQ(pci_msix_validate_layout(msix, memory_bar(1, 0x1000), memory_bar(1, 0x1000)).error().what(),
        "msix: table and PBA overlap");
    // The same offsets in different BARs are fine.
    auto apart = with_msix(2, 0x1, 0x2);
    MUST(pci_msix_validate_layout(MUST(pci_find_msix_capability(apart)), memory_bar(1, 0x1000), memory_bar(2, 0x1000)));
}

TEST(PciMsix, IoOrUnassignedOrWrongBarIsRefused)
{
    auto config = with_msix();
    auto msix = MUST(pci_find_msix_capability(config));
    PciBar io { PciBarKind::Io, 1, 0xc000, 0, false };
    EXPECT_STREQ(pci_msix_validate_layout(msix, io, io).error().what(), "msix: table BAR is not memory");
    EXPECT_STREQ(pci_msix_validate_layout(msix, memory_bar(1, 0x1000, 0), memory_bar(1, 0x1000, 0)).error().what(),
        "msix: table BAR not assigned by the firmware");
    EXPECT_EQ(
        pci_msix_validate_layout(msix, memory_bar(0, 0x1000), memory_bar(1, 0x1000)).error().code(), Errno::INVAL);
}

TEST(PciMsix, ControlSetsEnableAndFunctionMaskOnly)
{
    auto config = with_msix();
    auto msix = MUST(pci_find_msix_capability(config));
    pci_msix_set_control(config, msix, true, true);
    EXPECT_EQ(config.get16(cap + 2), msix_control::enable | msix_control::function_mask | 2);
    pci_msix_set_control(config, msix, true, false);
    EXPECT_EQ(config.get16(cap + 2), msix_control::enable | 2);
    pci_msix_set_control(config, msix, false, false);
    EXPECT_EQ(config.get16(cap + 2), 2);
}

TEST(MsixTable, ProgramsMaskedEntriesAndReadsThemBack)
{
    std::vector<uint32_t> memory(3 * 4, 0);
    memory[3] = 0x1; // reset state: masked
    memory[7] = 0xabc0'0001; // reserved bits set: must be preserved
    memory[11] = 0x0; // unmasked: program() must mask it first
    MsixTable table(memory.data(), 3);
    for (uint16_t i = 0; i < 3; ++i)
        MUST(table.program(i, MUST(arch::compose_msi_message(i, static_cast<uint8_t>(0xd0 + i)))));
    for (uint16_t i = 0; i < 3; ++i) {
        auto entry = MUST(table.read(i));
        EXPECT_EQ(entry.address, 0xfee0'0000u | (uint64_t { i } << 12));
        EXPECT_EQ(entry.data, 0xd0u + i);
        EXPECT_TRUE(entry.masked);
    }
    MUST(table.set_masked(1, false));
    EXPECT_FALSE(MUST(table.read(1)).masked);
    EXPECT_EQ(memory[7], 0xabc0'0000u);
    EXPECT_EQ(memory[1], 0u); // upper address
}

TEST(MsixTable, EntryPastTheTableIsOutOfRange)
{
    std::vector<uint32_t> memory(4, 0);
    MsixTable table(memory.data(), 1);
    EXPECT_EQ(table.program(1, { 0xfee0'0000, 0xd0 }).error().code(), Errno::RANGE);
    EXPECT_EQ(table.set_masked(1, true).error().code(), Errno::RANGE);
    EXPECT_EQ(table.read(1).error().code(), Errno::RANGE);
    EXPECT_EQ(table.program(0, { 0xfee0'0001, 0xd0 }).error().code(), Errno::INVAL);
}

} // namespace
