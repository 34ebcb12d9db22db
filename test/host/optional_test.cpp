#include <kernel/lib/optional.h>
#include <kernel/lib/own_ptr.h>

#include "tracked.h"

#include <gtest/gtest.h>

using namespace tessera;
using tessera::test::LifeCounts;
using tessera::test::Tracked;

namespace {

TEST(Optional, EmptyAndFull)
{
    Optional<int> empty;
    EXPECT_FALSE(empty.has_value());
    EXPECT_EQ(empty.value_or(5), 5);
    Optional<int> full = 3;
    EXPECT_TRUE(full.has_value());
    EXPECT_EQ(full.value(), 3);
    EXPECT_EQ(*full, 3);
    EXPECT_EQ(full.value_or(5), 3);
    EXPECT_TRUE(empty == Optional<int>());
    EXPECT_FALSE(empty == full);
    EXPECT_TRUE(full == Optional<int>(3));
}

TEST(Optional, NonTrivialValuesAreDestroyedExactlyOnce)
{
    LifeCounts counts;
    {
        Optional<Tracked> a = Tracked(counts, 1);
        Optional<Tracked> b = a; // copy
        Optional<Tracked> c = kstd::move(a); // move; a keeps a moved-from value
        EXPECT_EQ(b->value(), 1);
        EXPECT_EQ(c->value(), 1);
        b.clear();
        b.clear();
        c = b; // assigning empty destroys c's value
        EXPECT_FALSE(c.has_value());
        c.emplace(counts, 9);
        c.emplace(counts, 10); // replaces: the old one dies
        EXPECT_EQ(c->value(), 10);
        EXPECT_EQ(c.release_value().value(), 10);
        EXPECT_FALSE(c.has_value());
    }
    EXPECT_EQ(counts.alive(), 0);
}

TEST(Optional, HoldsMoveOnlyTypes)
{
    LifeCounts counts;
    {
        Optional<OwnPtr<Tracked>> a = MUST(try_make_own<Tracked>(counts, 4));
        Optional<OwnPtr<Tracked>> b = kstd::move(a);
        EXPECT_EQ((*b)->value(), 4);
        OwnPtr<Tracked> taken = b.release_value();
        EXPECT_EQ(taken->value(), 4);
        OwnPtr<Tracked> fallback = kstd::move(b).value_or(nullptr);
        EXPECT_TRUE(fallback.is_null());
    }
    EXPECT_EQ(counts.alive(), 0);
}

TEST(OptionalDeathTest, ValueOfEmptyVerifies)
{
    Optional<int> empty;
    EXPECT_DEATH((void)empty.value(), "VERIFY\\(m_has_value\\)");
}

} // namespace
