#include <kernel/lib/format.h>

#include <gtest/gtest.h>

using namespace tessera;

TEST(Format, IntegersAndWidths)
{
    char buffer[64];
    EXPECT_EQ(format(buffer, sizeof(buffer), "%d %u %x %5d|%-4d|%05x", -42, 7u, 0xbeefu, 12, 3, 0xabu), 27u);
    EXPECT_STREQ(buffer, "-42 7 beef    12|3   |000ab");
}

TEST(Format, LengthModifiers)
{
    char buffer[64];
    format(buffer, sizeof(buffer), "%lx %llu %zu %hhd", 0xffffffff80000000ul, 18446744073709551615ull, size_t(5),
        static_cast<signed char>(-1));
    EXPECT_STREQ(buffer, "ffffffff80000000 18446744073709551615 5 -1");
}

TEST(Format, StringsAndPointers)
{
    char buffer[64];
    format(buffer, sizeof(buffer), "[%s] [%.3s] [%6s] [%p]", "abc", "abcdef", "x", reinterpret_cast<void*>(0x1000));
    EXPECT_STREQ(buffer, "[abc] [abc] [     x] [0x0000000000001000]");
    const char* volatile missing = nullptr;
    format(buffer, sizeof(buffer), "%s", missing);
    EXPECT_STREQ(buffer, "(null)");
}

TEST(Format, TruncatesAndReportsFullLength)
{
    char buffer[8];
    EXPECT_EQ(format(buffer, sizeof(buffer), "%s", "0123456789"), 10u);
    EXPECT_STREQ(buffer, "0123456");
    EXPECT_EQ(format(buffer, 0, "%d", 12345), 5u);
}

TEST(Format, MostNegativeValue)
{
    char buffer[32];
    format(buffer, sizeof(buffer), "%lld", static_cast<long long>(-9223372036854775807LL - 1));
    EXPECT_STREQ(buffer, "-9223372036854775808");
}

TEST(Format, AlternateHexPrefix)
{
    char buffer[64];
    format(buffer, sizeof(buffer), "%#x %#llx %#X %#x %#010x", 255u, 0xfee00000ull, 171u, 0u, 0x1234u);
    EXPECT_STREQ(buffer, "0xff 0xfee00000 0XAB 0 0x00001234");
}
