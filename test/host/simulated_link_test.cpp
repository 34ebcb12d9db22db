#include <gtest/gtest.h>
#include <simulated_link.h>

using tessera::test::SimulatedLink;

TEST(SimulatedLink, CleanLinkDeliversEverythingInOrderAfterTheDelay)
{
    SimulatedLink link({ .delay_ns = 100 });
    for (uint8_t i = 0; i < 10; ++i)
        link.send(i, { i });
    EXPECT_TRUE(link.deliver_due(99).empty());
    auto due = link.deliver_due(1000);
    ASSERT_EQ(due.size(), 10u);
    for (uint8_t i = 0; i < 10; ++i)
        EXPECT_EQ(due[i], SimulatedLink::Packet { i });
    EXPECT_EQ(link.counters().delivered, 10u);
}

TEST(SimulatedLink, ImpairmentsAreAccountedAndReproducible)
{
    auto run = [](uint64_t seed) {
        SimulatedLink link({ .loss = 0.1, .duplicate = 0.05, .reorder = 0.1, .corrupt = 0.05, .seed = seed });
        std::vector<SimulatedLink::Packet> out;
        for (int i = 0; i < 2000; ++i)
            link.send(static_cast<uint64_t>(i) * 10, SimulatedLink::Packet(16, static_cast<uint8_t>(i)));
        for (auto& packet : link.deliver_due(UINT64_MAX - 1))
            out.push_back(packet);
        const auto& c = link.counters();
        EXPECT_EQ(c.sent - c.lost + c.duplicated, c.delivered);
        EXPECT_GT(c.lost, 100u);
        EXPECT_GT(c.reordered, 100u);
        EXPECT_GT(c.corrupted, 50u);
        return out;
    };
    EXPECT_EQ(run(3), run(3));
    EXPECT_NE(run(3), run(4));
}

TEST(SimulatedLink, PartitionDropsEverything)
{
    SimulatedLink link;
    link.set_partitioned(true);
    link.send(0, { 1, 2, 3 });
    EXPECT_TRUE(link.deliver_due(UINT64_MAX - 1).empty());
    EXPECT_EQ(link.counters().lost, 1u);
}
