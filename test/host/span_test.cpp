#include <kernel/lib/span.h>

#include <gtest/gtest.h>

#include <cstdint>

using namespace tessera;

namespace {

TEST(Span, PointsAtTheArray)
{
    int array[] = { 1, 2, 3, 4, 5 };
    Span<int> span = array;
    EXPECT_EQ(span.size(), 5u);
    EXPECT_EQ(span.data(), array);
    int sum = 0;
    for (int value : span)
        sum += value;
    EXPECT_EQ(sum, 15);
    span[0] = 10;
    EXPECT_EQ(array[0], 10);
    Span<const int> readonly = span;
    EXPECT_EQ(readonly[0], 10);
    EXPECT_TRUE(Span<int>().is_empty());
}

TEST(Span, SlicesInsideTheBounds)
{
    int array[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    Span<int> span = array;
    auto middle = span.slice(2, 3);
    ASSERT_EQ(middle.size(), 3u);
    EXPECT_EQ(middle[0], 2);
    EXPECT_EQ(span.slice(8).size(), 0u); // empty at the end is fine
    EXPECT_EQ(span.first(2)[1], 1);
    EXPECT_EQ(span.last(2)[0], 6);
    auto tail = MUST(span.try_slice(5));
    EXPECT_EQ(tail.size(), 3u);
    auto exact = MUST(span.try_slice(3, 5));
    EXPECT_EQ(exact[4], 7);
}

TEST(Span, TrySliceRejectsOutOfRangeAndOverflow)
{
    int array[4] {};
    Span<int> span = array;
    EXPECT_EQ(span.try_slice(5).error().code(), Errno::RANGE);
    EXPECT_EQ(span.try_slice(2, 3).error().code(), Errno::RANGE);
    // offset + count wraps to a small number: still out of range.
    EXPECT_EQ(span.try_slice(2, SIZE_MAX).error().code(), Errno::RANGE);
    EXPECT_EQ(span.try_slice(SIZE_MAX, 2).error().code(), Errno::RANGE);
}

TEST(Span, AsBytesCoversTheSameMemory)
{
    uint32_t words[2] = { 0x04030201, 0x08070605 };
    Span<uint32_t> span = words;
    auto bytes = span.as_bytes();
    ASSERT_EQ(bytes.size(), 8u);
    EXPECT_EQ(bytes[0], 0x01); // little endian
    EXPECT_EQ(bytes[7], 0x08);
    span.as_writable_bytes()[0] = 0xff;
    EXPECT_EQ(words[0], 0x040302ffu);
}

TEST(SpanDeathTest, OutOfBoundsVerifies)
{
    int array[4] {};
    Span<int> span = array;
    EXPECT_DEATH((void)span[4], "VERIFY\\(index < m_size\\)");
    EXPECT_DEATH((void)span.slice(2, 3), "VERIFY");
    EXPECT_DEATH((void)span.slice(2, SIZE_MAX), "VERIFY"); // no wraparound
    EXPECT_DEATH((void)span.last(5), "VERIFY");
}

} // namespace
