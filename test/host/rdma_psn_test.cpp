#include <net/rdma/lib/psn.h>

#include <gtest/gtest.h>

using namespace tessera::rdma;

namespace {

TEST(RdmaPsn, AddWrapsAt24Bits)
{
    EXPECT_EQ(psn_add(0xFFFFFF, 1), 0u);
    EXPECT_EQ(psn_add(0xFFFFFE, 5), 3u);
    EXPECT_EQ(psn_add(7, 0), 7u);
}

TEST(RdmaPsn, CompareAcrossTheWrap)
{
    EXPECT_TRUE(psn_after(0, 0xFFFFFF));
    EXPECT_TRUE(psn_before(0xFFFFFF, 0));
    EXPECT_EQ(psn_diff(2, 0xFFFFFE), 4);
    EXPECT_EQ(psn_diff(0xFFFFFE, 2), -4);
    EXPECT_FALSE(psn_after(5, 5));
    EXPECT_FALSE(psn_before(5, 5));
    // Exactly half the circle away counts as "before" (the signed range is
    // [-2^23, 2^23)), as in rxe's psn_compare.
    EXPECT_EQ(psn_diff(0x800000, 0), -0x800000);
    EXPECT_EQ(psn_diff(0x7FFFFF, 0), 0x7FFFFF);
    EXPECT_TRUE(psn_after(0x7FFFFF, 0));
    EXPECT_TRUE(psn_before(0x800001, 0));
}

TEST(RdmaPsn, WindowAcrossTheWrap)
{
    // 128 PSNs past 0xFFFFC0 (RXE_MAX_UNACKED_PSNS) reach 0x3F.
    EXPECT_TRUE(psn_in_window(0xFFFFC0, 0xFFFFC0, 128));
    EXPECT_TRUE(psn_in_window(0xFFFFFF, 0xFFFFC0, 128));
    EXPECT_TRUE(psn_in_window(0, 0xFFFFC0, 128));
    EXPECT_TRUE(psn_in_window(0x3F, 0xFFFFC0, 128));
    EXPECT_FALSE(psn_in_window(0x40, 0xFFFFC0, 128));
    EXPECT_FALSE(psn_in_window(0xFFFFBF, 0xFFFFC0, 128));
    EXPECT_FALSE(psn_in_window(3, 3, 0));
}

} // namespace
