// rping's 16-byte descriptor and ping pattern against docs/wire/rdma-cm.md 8.2-8.3.
#include <net/rdma/cm/lib/rping_descriptor.h>

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

using namespace tessera;
using namespace tessera::rdma::cm;

TEST(RdmaCmRping, DescriptorOfTheCapture)
{
    // `0000560abf44f370 0000057a 00000040`: va 0x560abf44f370, rkey 0x57a, 64 bytes.
    const std::vector<uint8_t> wire
        = { 0x00, 0x00, 0x56, 0x0a, 0xbf, 0x44, 0xf3, 0x70, 0x00, 0x00, 0x05, 0x7a, 0x00, 0x00, 0x00, 0x40 };
    auto descriptor = decode_rping_descriptor(Span<const uint8_t>(wire.data(), wire.size()));
    ASSERT_FALSE(descriptor.is_error());
    EXPECT_EQ(descriptor.value().address, 0x560abf44f370u);
    EXPECT_EQ(descriptor.value().rkey, 0x57au);
    EXPECT_EQ(descriptor.value().size, 64u);
    std::vector<uint8_t> out(16, 0xAA);
    encode_rping_descriptor(descriptor.value(), Span<uint8_t>(out.data(), out.size()));
    EXPECT_EQ(out, wire);
    EXPECT_TRUE(decode_rping_descriptor(Span<const uint8_t>(wire.data(), 15)).is_error());
    std::vector<uint8_t> longer(17);
    EXPECT_TRUE(decode_rping_descriptor(Span<const uint8_t>(longer.data(), longer.size())).is_error());
}

TEST(RdmaCmRping, PatternOfPingZeroWithS64)
{
    std::vector<uint8_t> buffer(64, 0xAA);
    fill_rping_pattern(0, Span<uint8_t>(buffer.data(), buffer.size()));
    const char* expected = "rdma-ping-0: ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqr";
    ASSERT_EQ(strlen(expected), 63u);
    EXPECT_EQ(memcmp(buffer.data(), expected, 63), 0);
    EXPECT_EQ(buffer[63], 0);
    // No NUL before the end, so the server's strlen + 1 WRITE equals size.
    EXPECT_EQ(strlen(reinterpret_cast<const char*>(buffer.data())) + 1, 64u);
}

TEST(RdmaCmRping, PatternWrapsFromZToA)
{
    std::vector<uint8_t> buffer(80);
    fill_rping_pattern(57, Span<uint8_t>(buffer.data(), buffer.size())); // starts at 65 + 57 = 'z'
    const char* prefix = "rdma-ping-57: ";
    EXPECT_EQ(memcmp(buffer.data(), prefix, 14), 0);
    EXPECT_EQ(buffer[14], 'z');
    EXPECT_EQ(buffer[15], 'A');
    EXPECT_EQ(buffer[79], 0);
    std::vector<uint8_t> tiny(5);
    fill_rping_pattern(123, Span<uint8_t>(tiny.data(), tiny.size()));
    EXPECT_EQ(memcmp(tiny.data(), "rdma", 4), 0);
    EXPECT_EQ(tiny[4], 0);
}
