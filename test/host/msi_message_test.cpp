// The x86 MSI message format (arch/x86_64/lib/msi_message.h), against the
// field layout of the Intel SDM, "Message Address Register Format" and
// "Message Data Register Format".
#include <arch/msi.h>

#include <gtest/gtest.h>

using namespace tessera;
using namespace tessera::arch;

namespace {

TEST(MsiMessage, AddressCarriesTheDestinationApicId)
{
    auto message = MUST(compose_msi_message(0, 0xd0));
    EXPECT_EQ(message.address, 0xfee0'0000u);
    message = MUST(compose_msi_message(1, 0xd0));
    EXPECT_EQ(message.address, 0xfee0'1000u);
    message = MUST(compose_msi_message(0xff, 0xd0));
    EXPECT_EQ(message.address, 0xfeef'f000u);
    MsiAddress address(static_cast<uint32_t>(message.address));
    EXPECT_TRUE(address.has_fixed_bits());
    EXPECT_EQ(address.destination_id(), 0xff);
    EXPECT_FALSE(address.redirection_hint());
    EXPECT_FALSE(address.logical_destination());
}

TEST(MsiMessage, DataIsFixedEdgeWithTheVector)
{
    auto message = MUST(compose_msi_message(3, 0xd5));
    EXPECT_EQ(message.data, 0xd5u);
    MsiData data(message.data);
    EXPECT_EQ(data.vector(), 0xd5);
    EXPECT_EQ(data.delivery_mode(), MsiDeliveryMode::Fixed);
    EXPECT_FALSE(data.level_triggered());
    EXPECT_FALSE(data.level_asserted());
}

TEST(MsiMessage, FieldDecodingOfOtherEncodings)
{
    MsiData data(0xc4'00 | 0x41); // level, assert, NMI delivery, vector 0x41
    EXPECT_EQ(data.vector(), 0x41);
    EXPECT_EQ(data.delivery_mode(), MsiDeliveryMode::Nmi);
    EXPECT_TRUE(data.level_triggered());
    EXPECT_TRUE(data.level_asserted());
    MsiAddress address(0xfee0'300c);
    EXPECT_EQ(address.destination_id(), 3);
    EXPECT_TRUE(address.redirection_hint());
    EXPECT_TRUE(address.logical_destination());
    EXPECT_FALSE(MsiAddress(0xfed0'0000).has_fixed_bits());
}

TEST(MsiMessage, ApicIdBeyondEightBitsIsOutOfRange)
{
    auto message = compose_msi_message(256, 0xd0);
    ASSERT_TRUE(message.is_error());
    EXPECT_EQ(message.error().code(), Errno::RANGE);
}

TEST(MsiMessage, ExceptionVectorsAreRefused)
{
    EXPECT_EQ(compose_msi_message(0, 0).error().code(), Errno::INVAL);
    EXPECT_EQ(compose_msi_message(0, 31).error().code(), Errno::INVAL);
    EXPECT_FALSE(compose_msi_message(0, 32).is_error());
    EXPECT_FALSE(compose_msi_message(0, 0xfe).is_error());
}

} // namespace
