#include <kernel/lib/own_ptr.h>
#include <kernel/lib/vector.h>

#include "allocation_failure.h"
#include "tracked.h"

#include <gtest/gtest.h>

#include <cstdint>

using namespace tessera;
using tessera::test::FailAllocations;
using tessera::test::LifeCounts;
using tessera::test::Tracked;

namespace {

TEST(Vector, AppendsAndIterates)
{
    Vector<int> vector;
    EXPECT_TRUE(vector.is_empty());
    for (int i = 0; i < 100; ++i)
        MUST(vector.try_append(i));
    ASSERT_EQ(vector.size(), 100u);
    EXPECT_GE(vector.capacity(), 100u);
    int expected = 0;
    for (int value : vector)
        EXPECT_EQ(value, expected++);
    EXPECT_EQ(vector.first(), 0);
    EXPECT_EQ(vector.last(), 99);
    auto span = vector.span();
    EXPECT_EQ(span.size(), 100u);
    EXPECT_EQ(span[42], 42);
}

TEST(Vector, RemoveKeepsOrderAndUnstableRemoveIsConstantTime)
{
    Vector<int> vector;
    for (int i = 0; i < 6; ++i)
        MUST(vector.try_append(i));
    vector.remove(0);
    vector.remove(2); // was 3
    vector.remove(vector.size() - 1);
    ASSERT_EQ(vector.size(), 3u);
    EXPECT_EQ(vector[0], 1);
    EXPECT_EQ(vector[1], 2);
    EXPECT_EQ(vector[2], 4);
    vector.unstable_remove(0);
    ASSERT_EQ(vector.size(), 2u);
    EXPECT_EQ(vector[0], 4);
    EXPECT_EQ(vector[1], 2);
    EXPECT_EQ(vector.take_last(), 2);
    EXPECT_EQ(vector.size(), 1u);
}

TEST(Vector, NonTrivialElementsLiveExactlyOnce)
{
    LifeCounts counts;
    {
        Vector<Tracked> vector;
        for (int i = 0; i < 50; ++i)
            MUST(vector.try_emplace(counts, i)); // several reallocations
        EXPECT_EQ(counts.alive(), 50);
        for (int i = 0; i < 50; ++i)
            EXPECT_EQ(vector[i].value(), i);
        vector.remove(10);
        EXPECT_EQ(counts.alive(), 49);
        EXPECT_EQ(vector[10].value(), 11);
        Vector<Tracked> moved = kstd::move(vector);
        EXPECT_TRUE(vector.is_empty());
        EXPECT_EQ(counts.alive(), 49);
        auto clone = MUST(moved.try_clone());
        EXPECT_EQ(counts.alive(), 98);
        clone.clear();
        EXPECT_EQ(counts.alive(), 49);
    }
    EXPECT_EQ(counts.alive(), 0);
}

TEST(Vector, HoldsMoveOnlyElements)
{
    LifeCounts counts;
    {
        Vector<OwnPtr<Tracked>> vector;
        for (int i = 0; i < 20; ++i)
            MUST(vector.try_append(MUST(try_make_own<Tracked>(counts, i))));
        vector.remove(3);
        EXPECT_EQ(vector[3]->value(), 4);
        EXPECT_EQ(counts.alive(), 19);
    }
    EXPECT_EQ(counts.alive(), 0);
}

TEST(Vector, AppendingAnElementOfItselfSurvivesGrowth)
{
    LifeCounts counts;
    Vector<Tracked> vector;
    MUST(vector.try_emplace(counts, 7));
    for (int i = 0; i < 40; ++i)
        MUST(vector.try_append(vector[0])); // the source lives in the old storage
    for (auto& element : vector)
        EXPECT_EQ(element.value(), 7);
}

TEST(Vector, ResizeGrowsWithDefaultsAndShrinksByDestroying)
{
    Vector<int> vector;
    MUST(vector.try_resize(10));
    EXPECT_EQ(vector.size(), 10u);
    for (int value : vector)
        EXPECT_EQ(value, 0);
    MUST(vector.try_resize(3));
    EXPECT_EQ(vector.size(), 3u);
    MUST(vector.try_reserve(1000));
    EXPECT_GE(vector.capacity(), 1000u);
    EXPECT_EQ(vector.size(), 3u);
}

TEST(Vector, GrowthFailureIsEnomemAndLeavesTheVectorIntact)
{
    LifeCounts counts;
    Vector<Tracked> vector;
    for (int i = 0; i < 4; ++i)
        MUST(vector.try_emplace(counts, i));
    ASSERT_EQ(vector.capacity(), 4u); // the next append must grow
    {
        FailAllocations fail;
        auto result = vector.try_emplace(counts, 99);
        ASSERT_TRUE(result.is_error());
        EXPECT_EQ(result.error().code(), Errno::NOMEM);
        EXPECT_EQ(vector.try_reserve(100).error().code(), Errno::NOMEM);
        EXPECT_EQ(fail.failures(), 2u);
    }
    EXPECT_EQ(vector.size(), 4u);
    EXPECT_EQ(vector.capacity(), 4u);
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(vector[i].value(), i);
    EXPECT_EQ(counts.alive(), 4); // the failed element was never built
    MUST(vector.try_emplace(counts, 4)); // and the vector still works
    EXPECT_EQ(vector.size(), 5u);
}

TEST(Vector, EveryAllocationOfAGrowthSequenceMayFail)
{
    // 200 elements take 7 growths (4, 8, ..., 256). Fail each one in turn:
    // the vector must stop exactly at the capacity it had reached.
    for (size_t successes = 0; successes < 7; ++successes) {
        LifeCounts counts;
        {
            Vector<Tracked> vector;
            FailAllocations fail(successes);
            size_t appended = 0;
            for (int i = 0; i < 200; ++i) {
                if (vector.try_emplace(counts, i).is_error())
                    break;
                ++appended;
            }
            EXPECT_EQ(vector.size(), appended);
            EXPECT_EQ(appended, successes == 0 ? 0u : 4u << (successes - 1));
            EXPECT_EQ(fail.failures(), 1u);
            for (size_t i = 0; i < appended; ++i)
                EXPECT_EQ(vector[i].value(), static_cast<int>(i));
        }
        EXPECT_EQ(counts.alive(), 0);
    }
}

TEST(Vector, SizesThatOverflowAreEnomemWithoutAllocating)
{
    Vector<uint64_t> vector;
    size_t before = tessera::test::nothrow_allocation_count();
    EXPECT_EQ(vector.try_reserve(SIZE_MAX / 4).error().code(), Errno::NOMEM); // * 8 bytes overflows
    EXPECT_EQ(vector.try_resize(SIZE_MAX).error().code(), Errno::NOMEM);
    EXPECT_EQ(tessera::test::nothrow_allocation_count(), before);
    EXPECT_TRUE(vector.is_empty());
}

TEST(VectorDeathTest, OutOfBoundsVerifies)
{
    Vector<int> vector;
    MUST(vector.try_append(1));
    EXPECT_DEATH((void)vector[1], "VERIFY\\(index < m_size\\)");
    EXPECT_DEATH(vector.remove(1), "VERIFY\\(index < m_size\\)");
}

} // namespace
