// The ARP cache policy: expiry by the caller's clock, bounded pending queues,
// refresh only of known entries, eviction of the oldest when full.
#include <net/inet/lib/arp_cache.h>

#include <gtest/gtest.h>

using namespace tessera;

namespace {

const ArpCachePolicy policy { 100, 10, 2 };
const MacAddress mac_a { { 2, 0, 0, 0, 0, 0xa } };
const MacAddress mac_b { { 2, 0, 0, 0, 0, 0xb } };

Ipv4Address ip(uint8_t last) { return Ipv4Address { { 10, 0, 0, last } }; }

using Cache = ArpCache<3>;

} // namespace

TEST(ArpCache, InsertLookupAndExpire)
{
    Cache cache(policy);
    EXPECT_FALSE(cache.lookup(ip(1), 0).has_value());
    EXPECT_EQ(cache.insert(ip(1), mac_a, 0), 0u);
    ASSERT_TRUE(cache.lookup(ip(1), 99).has_value());
    EXPECT_EQ(cache.lookup(ip(1), 99).value(), mac_a);
    EXPECT_FALSE(cache.lookup(ip(1), 100).has_value()); // Expired exactly at its lifetime.
    EXPECT_EQ(cache.size(), 0u);
}

TEST(ArpCache, PendingQueueIsBoundedAndReleasedOnReply)
{
    Cache cache(policy);
    EXPECT_EQ(cache.queue_for_resolution(ip(1), 0).value(), Cache::QueueResult::SendRequest);
    EXPECT_EQ(cache.queue_for_resolution(ip(1), 1).value(), Cache::QueueResult::Queued);
    EXPECT_EQ(cache.queue_for_resolution(ip(1), 2).error().code(), Errno::AGAIN);
    EXPECT_FALSE(cache.lookup(ip(1), 2).has_value()); // Pending is not resolved.
    EXPECT_EQ(cache.insert(ip(1), mac_a, 3), 2u);
    EXPECT_EQ(cache.lookup(ip(1), 3).value(), mac_a);
    EXPECT_EQ(cache.queue_for_resolution(ip(1), 4).error().code(), Errno::EXIST);
}

TEST(ArpCache, PendingExpiresAndDropsItsPackets)
{
    Cache cache(policy);
    (void)cache.queue_for_resolution(ip(1), 0).value();
    (void)cache.queue_for_resolution(ip(1), 0).value();
    EXPECT_EQ(cache.expire(9), 0u);
    EXPECT_EQ(cache.expire(10), 2u);
    EXPECT_EQ(cache.size(), 0u);
    // A new attempt after expiry asks again.
    EXPECT_EQ(cache.queue_for_resolution(ip(1), 11).value(), Cache::QueueResult::SendRequest);
}

TEST(ArpCache, RefreshUpdatesOnlyKnownEntries)
{
    Cache cache(policy);
    EXPECT_FALSE(cache.refresh(ip(1), mac_a, 0).has_value());
    EXPECT_EQ(cache.size(), 0u);
    cache.insert(ip(1), mac_a, 0);
    EXPECT_EQ(cache.refresh(ip(1), mac_b, 50).value(), 0u);
    EXPECT_EQ(cache.lookup(ip(1), 149).value(), mac_b); // Lifetime restarted at 50.
    (void)cache.queue_for_resolution(ip(2), 150).value();
    EXPECT_EQ(cache.refresh(ip(2), mac_a, 151).value(), 1u);
}

TEST(ArpCache, FullCacheEvictsTheOldest)
{
    Cache cache(policy);
    cache.insert(ip(1), mac_a, 0);
    cache.insert(ip(2), mac_a, 1);
    cache.insert(ip(3), mac_a, 2);
    cache.insert(ip(2), mac_b, 3); // ip(1) is now the oldest.
    cache.insert(ip(4), mac_a, 4);
    EXPECT_EQ(cache.size(), Cache::capacity());
    EXPECT_FALSE(cache.lookup(ip(1), 5).has_value());
    EXPECT_TRUE(cache.lookup(ip(2), 5).has_value());
    EXPECT_TRUE(cache.lookup(ip(3), 5).has_value());
    EXPECT_TRUE(cache.lookup(ip(4), 5).has_value());
}

TEST(ArpCache, ZeroQueueBoundRefusesToQueue)
{
    ArpCache<1> cache({ 100, 10, 0 });
    EXPECT_EQ(cache.queue_for_resolution(ip(1), 0).error().code(), Errno::AGAIN);
    EXPECT_EQ(cache.size(), 0u);
}

TEST(ArpCache, RemoveForgetsAnEntry)
{
    Cache cache(policy);
    cache.insert(ip(1), mac_a, 0);
    cache.remove(ip(1));
    EXPECT_FALSE(cache.lookup(ip(1), 0).has_value());
}
