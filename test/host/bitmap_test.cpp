#include <kernel/lib/bitmap.h>

#include <gtest/gtest.h>

#include <random>
#include <vector>

using namespace tessera;

namespace {

// A bitmap plus its storage, with the unused tail of the last word filled
// with ones so that a read or write past size() would show up.
struct TestBitmap {
    explicit TestBitmap(size_t bits)
        : storage(Bitmap::words_needed(bits) + 1, 0)
        , bitmap(storage.data(), bits)
    {
        if (bits % 64 != 0)
            storage[bits / 64] = ~0ull << (bits % 64);
        storage.back() = ~0ull; // a guard word
    }
    uint64_t tail_bits() const
    {
        size_t bits = bitmap.size();
        return bits % 64 == 0 ? 0 : storage[bits / 64] & (~0ull << (bits % 64));
    }
    void expect_guards_intact() const
    {
        size_t bits = bitmap.size();
        if (bits % 64 != 0) {
            EXPECT_EQ(tail_bits(), ~0ull << (bits % 64));
        }
        EXPECT_EQ(storage.back(), ~0ull);
    }

    std::vector<uint64_t> storage;
    Bitmap bitmap;
};

} // namespace

TEST(Bitmap, WordsNeeded)
{
    EXPECT_EQ(Bitmap::words_needed(0), 0u);
    EXPECT_EQ(Bitmap::words_needed(1), 1u);
    EXPECT_EQ(Bitmap::words_needed(64), 1u);
    EXPECT_EQ(Bitmap::words_needed(65), 2u);
    EXPECT_EQ(Bitmap::words_needed(SIZE_MAX), SIZE_MAX / 64 + 1);
}

TEST(Bitmap, GetSetClear)
{
    TestBitmap t(130);
    auto& b = t.bitmap;
    EXPECT_EQ(b.size(), 130u);
    for (size_t i : { 0u, 1u, 63u, 64u, 127u, 128u, 129u }) {
        EXPECT_FALSE(b.get(i));
        b.set(i);
        EXPECT_TRUE(b.get(i));
    }
    EXPECT_EQ(b.count_set(), 7u);
    b.set(64); // setting twice is idempotent
    EXPECT_EQ(b.count_set(), 7u);
    b.clear(64);
    EXPECT_FALSE(b.get(64));
    EXPECT_TRUE(b.get(63));
    EXPECT_TRUE(b.get(127));
    EXPECT_EQ(b.count_set(), 6u);
    t.expect_guards_intact();
}

TEST(Bitmap, EmptyBitmap)
{
    Bitmap b(nullptr, 0);
    EXPECT_EQ(b.size(), 0u);
    EXPECT_EQ(b.count_set(), 0u);
    EXPECT_EQ(b.find_first_clear(), Bitmap::npos);
    EXPECT_EQ(b.find_first_set(), Bitmap::npos);
    EXPECT_EQ(b.find_clear_run(1), Bitmap::npos);
    b.set_range(0, 0);
    Bitmap defaulted;
    EXPECT_EQ(defaulted.size(), 0u);
}

TEST(Bitmap, RangesAcrossWordBoundaries)
{
    for (size_t bits : { 1u, 63u, 64u, 65u, 200u, 256u }) {
        for (size_t start = 0; start <= bits; start += (bits < 70 ? 1 : 7)) {
            for (size_t count = 0; start + count <= bits; count += (bits < 70 ? 1 : 5)) {
                TestBitmap t(bits);
                t.bitmap.set_range(start, count);
                ASSERT_EQ(t.bitmap.count_set(), count) << bits << " " << start << " " << count;
                for (size_t i = 0; i < bits; ++i)
                    ASSERT_EQ(t.bitmap.get(i), i >= start && i < start + count);
                EXPECT_TRUE(t.bitmap.is_range_set(start, count));
                EXPECT_EQ(t.bitmap.count_set_in_range(start, count), count);
                t.bitmap.clear_range(start, count);
                ASSERT_EQ(t.bitmap.count_set(), 0u);
                EXPECT_TRUE(t.bitmap.is_range_clear(0, bits));
                t.expect_guards_intact();
            }
        }
    }
}

TEST(Bitmap, RangePredicates)
{
    TestBitmap t(100);
    auto& b = t.bitmap;
    b.set_range(10, 20);
    EXPECT_TRUE(b.is_range_set(10, 20));
    EXPECT_FALSE(b.is_range_set(9, 20));
    EXPECT_FALSE(b.is_range_set(11, 20));
    EXPECT_TRUE(b.is_range_clear(0, 10));
    EXPECT_TRUE(b.is_range_clear(30, 70));
    EXPECT_FALSE(b.is_range_clear(29, 2));
    // An empty range is vacuously both.
    EXPECT_TRUE(b.is_range_set(50, 0));
    EXPECT_TRUE(b.is_range_clear(15, 0));
    EXPECT_TRUE(b.is_range_clear(100, 0));
    EXPECT_EQ(b.count_set_in_range(0, 15), 5u);
    EXPECT_EQ(b.count_set_in_range(25, 75), 5u);
}

TEST(Bitmap, FindFirstClearAndSet)
{
    TestBitmap t(200);
    auto& b = t.bitmap;
    EXPECT_EQ(b.find_first_clear(), 0u);
    EXPECT_EQ(b.find_first_set(), Bitmap::npos);
    b.set_range(0, 150);
    EXPECT_EQ(b.find_first_clear(), 150u);
    EXPECT_EQ(b.find_first_clear(160), 160u);
    EXPECT_EQ(b.find_first_set(), 0u);
    EXPECT_EQ(b.find_first_set(149), 149u);
    EXPECT_EQ(b.find_first_set(150), Bitmap::npos);
    EXPECT_EQ(b.find_first_clear(200), Bitmap::npos);
    EXPECT_EQ(b.find_first_set(200), Bitmap::npos);
    b.set_range(150, 50);
    EXPECT_EQ(b.find_first_clear(), Bitmap::npos); // full: tail bits must not be reported
    b.clear(199);
    EXPECT_EQ(b.find_first_clear(), 199u);
    EXPECT_EQ(b.find_first_clear(199), 199u);
}

TEST(Bitmap, FindClearRunBasic)
{
    TestBitmap t(256);
    auto& b = t.bitmap;
    EXPECT_EQ(b.find_clear_run(256), 0u);
    EXPECT_EQ(b.find_clear_run(257), Bitmap::npos);
    b.set(3);
    b.set(70);
    EXPECT_EQ(b.find_clear_run(3), 0u);
    EXPECT_EQ(b.find_clear_run(4), 4u);
    EXPECT_EQ(b.find_clear_run(66), 4u);
    EXPECT_EQ(b.find_clear_run(67), 71u);
    EXPECT_EQ(b.find_clear_run(185), 71u);
    EXPECT_EQ(b.find_clear_run(186), Bitmap::npos);
    EXPECT_EQ(b.find_clear_run(1, 1, 3), 4u);
    EXPECT_EQ(b.find_clear_run(1, 1, 256), Bitmap::npos);
}

TEST(Bitmap, FindClearRunAlignment)
{
    TestBitmap t(256);
    auto& b = t.bitmap;
    b.set(1);
    EXPECT_EQ(b.find_clear_run(1, 1), 0u);
    EXPECT_EQ(b.find_clear_run(2, 2), 2u);
    EXPECT_EQ(b.find_clear_run(4, 4), 4u);
    EXPECT_EQ(b.find_clear_run(1, 64), 0u);
    EXPECT_EQ(b.find_clear_run(2, 64), 64u);
    EXPECT_EQ(b.find_clear_run(1, 128, 1), 128u);
    EXPECT_EQ(b.find_clear_run(129, 128, 1), Bitmap::npos);
    EXPECT_EQ(b.find_clear_run(1, 512), 0u);
    EXPECT_EQ(b.find_clear_run(1, 512, 1), Bitmap::npos);
    // A huge alignment must not overflow while rounding up.
    EXPECT_EQ(b.find_clear_run(1, size_t(1) << 63, 1), Bitmap::npos);
    // With an offset, indexes are aligned as (index + offset): offset 3
    // with alignment 4 makes 1, 5, 9, ... the candidates.
    EXPECT_EQ(b.find_clear_run(1, 4, 0, 3), 5u);
    EXPECT_EQ(b.find_clear_run(4, 4, 0, 3), 5u);
    EXPECT_EQ(b.find_clear_run(1, 4, 0, 4), 0u);
    EXPECT_EQ(b.find_clear_run(1, 8, 0, SIZE_MAX), 1 + 8u);
    for (size_t index = 0; index < 256; ++index) {
        if (index % 3 == 0)
            b.set(index);
    }
    EXPECT_EQ(b.find_clear_run(3), Bitmap::npos);
    EXPECT_EQ(b.find_clear_run(2, 2), 4u);
    EXPECT_EQ(b.find_clear_run(2, 2, 0, 1), 7u);
}

// Compares find_clear_run with a brute-force reference on random bitmaps.
TEST(Bitmap, FindClearRunMatchesReference)
{
    std::mt19937_64 random(1234);
    for (int round = 0; round < 300; ++round) {
        size_t bits = 1 + random() % 300;
        TestBitmap t(bits);
        auto& b = t.bitmap;
        unsigned density = random() % 10;
        for (size_t i = 0; i < bits; ++i) {
            if (random() % 10 < density)
                b.set(i);
        }
        for (int query = 0; query < 20; ++query) {
            size_t count = 1 + random() % 40;
            size_t alignment = size_t(1) << (random() % 7);
            size_t from = random() % (bits + 1);
            size_t offset = random() % 16;
            size_t expected = Bitmap::npos;
            for (size_t i = from; i + count <= bits; ++i) {
                if ((i + offset) % alignment != 0)
                    continue;
                bool clear = true;
                for (size_t j = i; j < i + count; ++j)
                    clear = clear && !b.get(j);
                if (clear) {
                    expected = i;
                    break;
                }
            }
            ASSERT_EQ(b.find_clear_run(count, alignment, from, offset), expected)
                << "bits=" << bits << " count=" << count << " alignment=" << alignment << " from=" << from
                << " offset=" << offset;
            size_t first_clear = Bitmap::npos;
            for (size_t i = from; i < bits; ++i) {
                if (!b.get(i)) {
                    first_clear = i;
                    break;
                }
            }
            ASSERT_EQ(b.find_first_clear(from), first_clear);
        }
        t.expect_guards_intact();
    }
}

TEST(BitmapDeathTest, OutOfRangeIndexVerifies)
{
    TestBitmap t(70);
    auto& b = t.bitmap;
    EXPECT_DEATH(b.get(70), "VERIFY");
    EXPECT_DEATH(b.set(70), "VERIFY");
    EXPECT_DEATH(b.clear(SIZE_MAX), "VERIFY");
    EXPECT_DEATH(b.set_range(60, 11), "VERIFY");
    EXPECT_DEATH(b.clear_range(71, 0), "VERIFY");
    EXPECT_DEATH(b.set_range(1, SIZE_MAX), "VERIFY"); // start + count overflows
    EXPECT_DEATH(b.count_set_in_range(0, 71), "VERIFY");
    EXPECT_DEATH(b.is_range_clear(70, 1), "VERIFY");
    EXPECT_DEATH(b.find_first_clear(71), "VERIFY");
    EXPECT_DEATH(b.find_first_set(71), "VERIFY");
}

TEST(BitmapDeathTest, BadRunArgumentsVerify)
{
    TestBitmap t(70);
    auto& b = t.bitmap;
    EXPECT_DEATH(b.find_clear_run(0), "VERIFY");
    EXPECT_DEATH(b.find_clear_run(1, 0), "VERIFY");
    EXPECT_DEATH(b.find_clear_run(1, 3), "VERIFY");
    EXPECT_DEATH(b.find_clear_run(1, 1, 71), "VERIFY");
    EXPECT_DEATH(Bitmap(nullptr, 1), "VERIFY");
}
