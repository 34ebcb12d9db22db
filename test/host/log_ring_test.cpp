#include <gtest/gtest.h>
#include <kernel/console/lib/log_ring.h>

#include <string>

using namespace tessera;

namespace {

std::string pop_string(LogRing& ring)
{
    char out[LogRing::max_record];
    size_t length = ring.pop(out, sizeof(out));
    return std::string(out, length < sizeof(out) ? length : sizeof(out));
}

} // namespace

TEST(LogRing, RecordsComeOutWholeAndInOrder)
{
    uint8_t buffer[64];
    LogRing ring(buffer, sizeof(buffer));
    EXPECT_TRUE(ring.is_empty());
    EXPECT_TRUE(ring.push("ok 1 first\n", 11));
    EXPECT_TRUE(ring.push("ok 2 second\n", 12));
    EXPECT_EQ(pop_string(ring), "ok 1 first\n");
    EXPECT_EQ(pop_string(ring), "ok 2 second\n");
    EXPECT_TRUE(ring.is_empty());
    EXPECT_EQ(ring.pop(nullptr, 0), 0u);
}

TEST(LogRing, FullRingRefusesWithoutCorruptingWhatItHolds)
{
    uint8_t buffer[32];
    LogRing ring(buffer, sizeof(buffer));
    EXPECT_TRUE(ring.push("0123456789abcdef", 16)); // 18 bytes used
    EXPECT_FALSE(ring.push("0123456789abc", 13)); // needs 15, 14 free
    EXPECT_TRUE(ring.push("0123456789ab", 12)); // exactly full
    EXPECT_EQ(ring.used_bytes(), 32u);
    EXPECT_FALSE(ring.push("x", 1));
    EXPECT_EQ(pop_string(ring), "0123456789abcdef");
    EXPECT_EQ(pop_string(ring), "0123456789ab");
}

TEST(LogRing, WrapsAroundTheBufferEnd)
{
    uint8_t buffer[20]; // not a power of two
    LogRing ring(buffer, sizeof(buffer));
    for (int round = 0; round < 50; ++round) {
        std::string line = "line " + std::to_string(round) + "\n";
        ASSERT_TRUE(ring.push(line.data(), line.size()));
        ASSERT_EQ(pop_string(ring), line);
    }
}

TEST(LogRing, LongWritesAreCutAndShortBuffersTruncateTheCopyOnly)
{
    static uint8_t buffer[4096];
    LogRing ring(buffer, sizeof(buffer));
    std::string long_line(LogRing::max_record + 100, 'x');
    EXPECT_TRUE(ring.push(long_line.data(), long_line.size()));
    EXPECT_EQ(ring.used_bytes(), LogRing::max_record + 2);
    EXPECT_TRUE(ring.push("next", 4));
    char small[3];
    EXPECT_EQ(ring.pop(small, sizeof(small)), LogRing::max_record); // whole record consumed
    EXPECT_EQ(pop_string(ring), "next");
}

TEST(LogRing, EmptyWriteStoresNothing)
{
    uint8_t buffer[8];
    LogRing ring(buffer, sizeof(buffer));
    EXPECT_TRUE(ring.push("", 0));
    EXPECT_TRUE(ring.is_empty());
}
