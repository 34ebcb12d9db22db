#include <gtest/gtest.h>
#include <kernel/platform/lib/ending_state.h>

using namespace tessera;

// After a panic has begun, an exit can neither claim nor commit.
TEST(EndingState, PanicFirstMeansNoExit)
{
    EndingState ending;
    EXPECT_EQ(ending.claim_panic(1), PanicClaim::First);
    EXPECT_FALSE(ending.claim_exit());
    EXPECT_FALSE(ending.commit_exit());
    uint32_t cpu = 99;
    EXPECT_TRUE(ending.panicking_cpu(cpu));
    EXPECT_EQ(cpu, 1u);
}

// A panic while the exit flushes the console makes the commit fail.
TEST(EndingState, PanicDuringTheExitFlushWins)
{
    EndingState ending;
    EXPECT_TRUE(ending.claim_exit());
    EXPECT_EQ(ending.claim_panic(1), PanicClaim::First);
    EXPECT_FALSE(ending.commit_exit());
    EXPECT_TRUE(ending.panic_in_progress());
}

TEST(EndingState, OnlyTheFirstExitProceeds)
{
    EndingState ending;
    EXPECT_TRUE(ending.claim_exit());
    EXPECT_FALSE(ending.claim_exit());
    EXPECT_TRUE(ending.commit_exit());
    EXPECT_FALSE(ending.commit_exit());
    EXPECT_FALSE(ending.panic_in_progress());
}

TEST(EndingState, SecondPanickerIsOtherAndRepanicIsNested)
{
    EndingState ending;
    EXPECT_EQ(ending.claim_panic(0), PanicClaim::First);
    EXPECT_EQ(ending.claim_panic(1), PanicClaim::Other);
    EXPECT_EQ(ending.claim_panic(0), PanicClaim::Nested);
}
