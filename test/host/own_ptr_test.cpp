#include <kernel/lib/own_ptr.h>

#include "allocation_failure.h"
#include "tracked.h"

#include <gtest/gtest.h>

using namespace tessera;
using tessera::test::FailAllocations;
using tessera::test::LifeCounts;
using tessera::test::Tracked;

namespace {

struct Base {
    explicit Base(int& destroyed)
        : destroyed(destroyed)
    {
    }
    virtual ~Base() { ++destroyed; }
    int& destroyed;
};
struct Derived : Base {
    using Base::Base;
    ~Derived() override { ++destroyed; }
};

TEST(OwnPtr, DeletesExactlyOnceWhenItDies)
{
    LifeCounts counts;
    {
        auto own = MUST(try_make_own<Tracked>(counts, 7));
        EXPECT_EQ(own->value(), 7);
        EXPECT_EQ((*own).value(), 7);
        EXPECT_EQ(counts.alive(), 1);
    }
    EXPECT_EQ(counts.constructed, 1);
    EXPECT_EQ(counts.destroyed, 1);
}

TEST(OwnPtr, MoveTransfersOwnership)
{
    LifeCounts counts;
    auto a = MUST(try_make_own<Tracked>(counts, 1));
    Tracked* raw = a.ptr();
    OwnPtr<Tracked> b = kstd::move(a);
    EXPECT_TRUE(a.is_null());
    EXPECT_EQ(b.ptr(), raw);
    OwnPtr<Tracked> c;
    c = kstd::move(b);
    EXPECT_TRUE(b.is_null());
    EXPECT_EQ(c.ptr(), raw);
    EXPECT_EQ(counts.alive(), 1);
    c = kstd::move(c); // self-move keeps the object
    EXPECT_EQ(c.ptr(), raw);
    c = nullptr;
    EXPECT_EQ(counts.destroyed, 1);
}

TEST(OwnPtr, AssigningOverAnOwnerDeletesTheOldObject)
{
    LifeCounts counts;
    auto a = MUST(try_make_own<Tracked>(counts, 1));
    a = MUST(try_make_own<Tracked>(counts, 2));
    EXPECT_EQ(counts.destroyed, 1);
    EXPECT_EQ(a->value(), 2);
}

TEST(OwnPtr, LeakPtrGivesUpOwnership)
{
    LifeCounts counts;
    auto own = MUST(try_make_own<Tracked>(counts, 1));
    Tracked* raw = own.leak_ptr();
    own.clear();
    EXPECT_EQ(counts.destroyed, 0);
    auto again = adopt_own(raw);
    again.clear();
    EXPECT_EQ(counts.destroyed, 1);
}

TEST(OwnPtr, DerivedConvertsToBaseAndDeletesThroughTheVirtualDestructor)
{
    int destroyed = 0;
    {
        OwnPtr<Base> base = MUST(try_make_own<Derived>(destroyed));
        EXPECT_FALSE(base.is_null());
    }
    EXPECT_EQ(destroyed, 2); // ~Derived then ~Base
}

TEST(OwnPtr, AllocationFailureIsEnomemAndConstructsNothing)
{
    LifeCounts counts;
    FailAllocations fail;
    auto result = try_make_own<Tracked>(counts, 1);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), Errno::NOMEM);
    EXPECT_EQ(counts.constructed, 0);
    EXPECT_EQ(fail.failures(), 1u);
}

TEST(OwnPtr, AdoptIfNonnullTurnsNullIntoEnomem)
{
    auto result = adopt_own_if_nonnull<int>(nullptr);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), Errno::NOMEM);
}

TEST(OwnPtrDeathTest, DereferencingNullVerifies)
{
    OwnPtr<int> null;
    EXPECT_DEATH((void)*null, "VERIFY\\(m_pointer != nullptr\\)");
}

} // namespace
