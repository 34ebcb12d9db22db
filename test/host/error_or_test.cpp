#include <kernel/lib/checked.h>
#include <kernel/lib/error_or.h>

#include <gtest/gtest.h>

using namespace tessera;

namespace {

ErrorOr<int> parse_positive(int value)
{
    if (value <= 0)
        return Error(Errno::INVAL, "not positive");
    return value;
}

ErrorOr<int> doubled(int value)
{
    int checked = TRY(parse_positive(value));
    return checked * 2;
}

} // namespace

TEST(ErrorOr, PropagatesThroughTry)
{
    EXPECT_EQ(doubled(4).value(), 8);
    auto failed = doubled(-1);
    ASSERT_TRUE(failed.is_error());
    EXPECT_EQ(failed.error().code(), Errno::INVAL);
    EXPECT_STREQ(errno_name(failed.error().code()), "EINVAL");
}

TEST(ErrorOr, MustYieldsValue) { EXPECT_EQ(MUST(parse_positive(3)), 3); }

TEST(ErrorOrDeathTest, MustAbortsOnError) { EXPECT_DEATH((void)MUST(parse_positive(0)), "VERIFY"); }

TEST(Checked, OverflowIsAnError)
{
    EXPECT_TRUE(checked_add<uint64_t>(~0ull, 1).is_error());
    EXPECT_EQ(checked_add<uint64_t>(1, 2).value(), 3u);
    EXPECT_TRUE(checked_mul<uint32_t>(1u << 31, 2).is_error());
    EXPECT_TRUE(checked_sub<uint64_t>(0, 1).is_error());
    EXPECT_TRUE(checked_align_up<uint64_t>(~0ull - 1, 4096).is_error());
    EXPECT_EQ(checked_align_up<uint64_t>(4097, 4096).value(), 8192u);
}

TEST(Errno, EveryLinuxNumberHasItsName)
{
    // Linux x86-64 uses 1..133, all but 41 and 58; aliases share a number.
    for (int32_t value = 1; value <= 133; ++value) {
        if (value == 41 || value == 58)
            continue;
        EXPECT_STRNE(errno_name(static_cast<Errno>(value)), "E?") << value;
    }
    EXPECT_STREQ(errno_name(Errno::OPNOTSUPP), "EOPNOTSUPP");
    EXPECT_STREQ(errno_name(Errno::DEADLK), "EDEADLK");
    EXPECT_STREQ(errno_name(Errno::ARG_LIST_TOO_BIG), "E2BIG");
}
