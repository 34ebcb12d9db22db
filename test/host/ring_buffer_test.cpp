#include <kernel/lib/own_ptr.h>
#include <kernel/lib/ring_buffer.h>

#include "tracked.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>

using namespace tessera;
using tessera::test::LifeCounts;
using tessera::test::Tracked;

namespace {

TEST(RingBuffer, FifoUntilFull)
{
    RingBuffer<int, 4> ring;
    EXPECT_TRUE(ring.is_empty());
    EXPECT_EQ(ring.capacity(), 4u);
    EXPECT_EQ(ring.peek(), nullptr);
    EXPECT_FALSE(ring.pop().has_value());
    for (int i = 0; i < 4; ++i)
        MUST(ring.try_push(i));
    EXPECT_TRUE(ring.is_full());
    auto refused = ring.try_push(99);
    ASSERT_TRUE(refused.is_error());
    EXPECT_EQ(refused.error().code(), Errno::NOSPC);
    EXPECT_EQ(*ring.peek(), 0);
    EXPECT_EQ(ring.at(3), 3);
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(ring.pop().value(), i);
    EXPECT_TRUE(ring.is_empty());
}

TEST(RingBuffer, WrapsAroundManyTimes)
{
    RingBuffer<int, 8> ring;
    std::deque<int> model;
    std::mt19937 random(7);
    int next = 0;
    for (int step = 0; step < 10000; ++step) {
        if (random() % 2 == 0 && !ring.is_full()) {
            MUST(ring.try_push(next));
            model.push_back(next++);
        } else if (!ring.is_empty()) {
            ASSERT_EQ(ring.pop().value(), model.front());
            model.pop_front();
        }
        ASSERT_EQ(ring.size(), model.size());
    }
}

TEST(RingBuffer, OverwritingDropsTheOldest)
{
    RingBuffer<int, 4> ring;
    for (int i = 0; i < 4; ++i)
        EXPECT_FALSE(ring.push_overwriting(i));
    EXPECT_TRUE(ring.push_overwriting(4));
    EXPECT_TRUE(ring.push_overwriting(5));
    EXPECT_EQ(ring.overwritten(), 2u);
    EXPECT_EQ(ring.size(), 4u);
    for (int i = 2; i < 6; ++i)
        EXPECT_EQ(ring.pop().value(), i);
}

TEST(RingBuffer, NonTrivialElementsLiveExactlyOnce)
{
    LifeCounts counts;
    {
        RingBuffer<Tracked, 4> ring;
        for (int i = 0; i < 10; ++i)
            ring.push_overwriting(Tracked(counts, i)); // six are overwritten
        EXPECT_EQ(ring.peek()->value(), 6);
        auto popped = ring.pop();
        EXPECT_EQ(popped->value(), 6);
    } // the three left die with the ring
    EXPECT_EQ(counts.alive(), 0);
}

TEST(RingBuffer, HoldsMoveOnlyElements)
{
    LifeCounts counts;
    {
        RingBuffer<OwnPtr<Tracked>, 2> ring;
        MUST(ring.try_push(MUST(try_make_own<Tracked>(counts, 1))));
        ring.push_overwriting(MUST(try_make_own<Tracked>(counts, 2)));
        ring.push_overwriting(MUST(try_make_own<Tracked>(counts, 3)));
        EXPECT_EQ(counts.destroyed, 1);
        EXPECT_EQ(ring.pop().value()->value(), 2);
    }
    EXPECT_EQ(counts.alive(), 0);
}

TEST(RingBufferDeathTest, AtOutOfRangeVerifies)
{
    RingBuffer<int, 4> ring;
    MUST(ring.try_push(1));
    EXPECT_DEATH((void)ring.at(1), "VERIFY\\(index < size\\(\\)\\)");
}

} // namespace
