// MSI capability decoding and programming (drivers/pci/lib/msi_capability.h)
// against fake configuration spaces shaped like the four MSI layouts.
#include <drivers/pci/lib/capability_list.h>
#include <drivers/pci/lib/msi_capability.h>

#include <fake_pci_config_space.h>
#include <gtest/gtest.h>

using namespace tessera;
using tessera::test::FakePciConfigSpace;

namespace {

constexpr uint8_t cap = 0x50;

FakePciConfigSpace with_msi(uint16_t control)
{
    FakePciConfigSpace config;
    config.set_capabilities({ { 0x40, pci_capability_id::power_management }, { cap, pci_capability_id::msi } });
    config.put16(cap + 2, control);
    return config;
}

size_t index_of_write(const FakePciConfigSpace& config, uint8_t offset, size_t from = 0)
{
    for (size_t i = from; i < config.writes().size(); ++i) {
        if (config.writes()[i].offset == offset)
            return i;
    }
    return SIZE_MAX;
}

TEST(PciMsi, Decodes64BitWithoutMasking)
{
    // QEMU's edu: one vector, 64-bit, no per-vector mask.
    auto config = with_msi(msi_control::address_64bit);
    auto msi = MUST(pci_find_msi_capability(config));
    EXPECT_EQ(msi.offset, cap);
    EXPECT_TRUE(msi.is_64bit);
    EXPECT_FALSE(msi.per_vector_masking);
    EXPECT_EQ(msi.vectors_capable, 1);
    EXPECT_FALSE(msi.enabled);
    EXPECT_EQ(msi.data_offset(), cap + 0xc);
    EXPECT_EQ(msi.length(), 0xe);
}

TEST(PciMsi, Decodes32BitWithMaskingAndVectorCount)
{
    auto config = with_msi(msi_control::per_vector_masking | (3u << 1) | msi_control::enable);
    auto msi = MUST(pci_find_msi_capability(config));
    EXPECT_FALSE(msi.is_64bit);
    EXPECT_TRUE(msi.per_vector_masking);
    EXPECT_EQ(msi.vectors_capable, 8);
    EXPECT_TRUE(msi.enabled);
    EXPECT_EQ(msi.data_offset(), cap + 0x8);
    EXPECT_EQ(msi.mask_offset(), cap + 0xc);
    EXPECT_EQ(msi.pending_offset(), cap + 0x10);
}

TEST(PciMsi, ReservedVectorCountIsRefused)
{
    auto config = with_msi(6u << 1);
    EXPECT_EQ(pci_find_msi_capability(config).error().code(), Errno::INVAL);
}

TEST(PciMsi, CapabilityRunningPastTheSpaceIsRefused)
{
    FakePciConfigSpace config;
    config.set_capabilities({ { 0xf0, pci_capability_id::msi } });
    config.put16(0xf2, msi_control::address_64bit | msi_control::per_vector_masking); // 0x18 bytes
    EXPECT_EQ(pci_find_msi_capability(config).error().code(), Errno::INVAL);
}

TEST(PciMsi, WrongIdAtOffsetIsRefused)
{
    auto config = with_msi(0);
    EXPECT_EQ(pci_decode_msi_capability(config, 0x40).error().code(), Errno::INVAL);
}

TEST(PciMsi, Programs64BitAndEnablesLast)
{
    auto config = with_msi(msi_control::address_64bit | msi_control::enable | (2u << 4));
    auto msi = MUST(pci_find_msi_capability(config));
    auto message = MUST(arch::compose_msi_message(1, 0xd3));
    config.clear_writes();
    MUST(pci_msi_enable(config, msi, message));
    EXPECT_EQ(config.get32(cap + 4), 0xfee0'1000u);
    EXPECT_EQ(config.get32(cap + 8), 0u);
    EXPECT_EQ(config.get16(cap + 0xc), 0xd3u);
    uint16_t control = config.get16(cap + 2);
    EXPECT_TRUE(control & msi_control::enable);
    EXPECT_EQ(control & msi_control::multiple_enable_mask, 0); // one vector
    // Disabled before the message changes; enabled only after it is whole.
    size_t disable = index_of_write(config, cap + 2);
    size_t address = index_of_write(config, cap + 4);
    size_t data = index_of_write(config, cap + 0xc);
    size_t enable = index_of_write(config, cap + 2, disable + 1);
    ASSERT_NE(enable, SIZE_MAX);
    EXPECT_EQ(config.writes()[disable].value & msi_control::enable, 0u);
    EXPECT_LT(disable, address);
    EXPECT_LT(address, enable);
    EXPECT_LT(data, enable);
    EXPECT_EQ(enable, config.writes().size() - 1);
}

TEST(PciMsi, Programs32BitWithMaskingAndUnmasks)
{
    auto config = with_msi(msi_control::per_vector_masking);
    config.put32(cap + 0xc, 0xffff'ffff);
    auto msi = MUST(pci_find_msi_capability(config));
    MUST(pci_msi_enable(config, msi, MUST(arch::compose_msi_message(0, 0xd0))));
    EXPECT_EQ(config.get32(cap + 4), 0xfee0'0000u);
    EXPECT_EQ(config.get16(cap + 8), 0xd0u);
    EXPECT_EQ(config.get32(cap + 0xc), 0xffff'fffeu); // vector 0 unmasked only
    MUST(pci_msi_set_masked(config, msi, true));
    EXPECT_EQ(config.get32(cap + 0xc), 0xffff'ffffu);
    pci_msi_disable(config, msi);
    EXPECT_EQ(config.get16(cap + 2) & msi_control::enable, 0);
}

TEST(PciMsi, BadMessagesAreRefusedAndNothingIsWritten)
{
    auto config = with_msi(0);
    auto msi = MUST(pci_find_msi_capability(config));
    config.clear_writes();
    EXPECT_EQ(pci_msi_enable(config, msi, { 0x1'fee0'0000ull, 0xd0 }).error().code(), Errno::INVAL);
    EXPECT_EQ(pci_msi_enable(config, msi, { 0xfee0'0002, 0xd0 }).error().code(), Errno::INVAL);
    EXPECT_EQ(pci_msi_enable(config, msi, { 0xfee0'0000, 0x1'0000 }).error().code(), Errno::INVAL);
    EXPECT_TRUE(config.writes().empty());
    EXPECT_EQ(pci_msi_set_masked(config, msi, true).error().code(), Errno::INVAL);
}

} // namespace
