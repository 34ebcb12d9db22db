#include <kernel/lib/intrusive_hash_table.h>

#include "allocation_failure.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <vector>

using namespace tessera;

namespace {

struct Entry {
    explicit Entry(uint32_t key)
        : key(key)
    {
    }
    uint32_t key;
    IntrusiveHashNode hash_node;
};

struct EntryKey {
    using Key = uint32_t;
    static Key key_of(const Entry& entry) { return entry.key; }
    static uint64_t hash(Key key) { return key; }
};

// Every key in one chain: exercises the collision paths.
struct CollidingKey : EntryKey {
    static uint64_t hash(Key) { return 42; }
};

template<typename Traits, size_t buckets>
struct Table {
    IntrusiveHashBucket storage[buckets];
    IntrusiveHashTable<Entry, &Entry::hash_node, Traits> table { storage };
};

TEST(IntrusiveHashTable, InsertFindRemove)
{
    Table<EntryKey, 16> t;
    Entry a(1), b(2), c(17);
    MUST(t.table.try_insert(a));
    MUST(t.table.try_insert(b));
    MUST(t.table.try_insert(c));
    EXPECT_EQ(t.table.count(), 3u);
    EXPECT_EQ(t.table.find(1), &a);
    EXPECT_EQ(t.table.find(2), &b);
    EXPECT_EQ(t.table.find(17), &c);
    EXPECT_EQ(t.table.find(3), nullptr);
    t.table.remove(b);
    EXPECT_FALSE(b.hash_node.is_linked());
    EXPECT_EQ(t.table.find(2), nullptr);
    EXPECT_EQ(t.table.take(1), &a);
    EXPECT_EQ(t.table.take(1), nullptr);
    EXPECT_EQ(t.table.count(), 1u);
    t.table.clear();
    EXPECT_TRUE(t.table.is_empty());
    EXPECT_FALSE(c.hash_node.is_linked());
}

TEST(IntrusiveHashTable, DuplicateKeysAreRejected)
{
    Table<EntryKey, 4> t;
    Entry a(5), twin(5);
    MUST(t.table.try_insert(a));
    auto result = t.table.try_insert(twin);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), Errno::EXIST);
    EXPECT_FALSE(twin.hash_node.is_linked());
    EXPECT_EQ(t.table.count(), 1u);
    t.table.clear();
}

TEST(IntrusiveHashTable, LinkingNeverAllocates)
{
    tessera::test::FailAllocations no_heap; // any allocation would fail
    Table<EntryKey, 8> t;
    Entry entries[3] { Entry(1), Entry(2), Entry(3) };
    for (auto& entry : entries)
        MUST(t.table.try_insert(entry));
    for (auto& entry : entries)
        t.table.remove(entry);
    EXPECT_EQ(no_heap.failures(), 0u);
}

// Removal from the head, the middle and the tail of one chain.
TEST(IntrusiveHashTable, CollisionsShareAChainAndUnlinkAnywhere)
{
    Table<CollidingKey, 8> t;
    std::vector<std::unique_ptr<Entry>> entries;
    for (uint32_t key = 0; key < 10; ++key) {
        entries.push_back(std::make_unique<Entry>(key));
        MUST(t.table.try_insert(*entries.back()));
    }
    for (uint32_t key = 0; key < 10; ++key)
        EXPECT_EQ(t.table.find(key), entries[key].get());
    for (uint32_t key : { 0u, 9u, 5u, 4u, 1u }) {
        t.table.remove(*entries[key]);
        EXPECT_EQ(t.table.find(key), nullptr);
    }
    for (uint32_t key : { 2u, 3u, 6u, 7u, 8u })
        EXPECT_EQ(t.table.find(key), entries[key].get());
    EXPECT_EQ(t.table.count(), 5u);
    t.table.clear();
}

TEST(IntrusiveHashTable, IterationVisitsEveryObjectOnceAndAllowsRemovingTheCurrent)
{
    Table<EntryKey, 4> t;
    std::vector<std::unique_ptr<Entry>> entries;
    for (uint32_t key = 0; key < 50; ++key) {
        entries.push_back(std::make_unique<Entry>(key * 7));
        MUST(t.table.try_insert(*entries.back()));
    }
    std::map<uint32_t, int> seen;
    for (auto& entry : t.table)
        ++seen[entry.key];
    EXPECT_EQ(seen.size(), 50u);
    for (auto& [key, times] : seen)
        EXPECT_EQ(times, 1) << key;
    // Remove the odd keys while iterating.
    size_t visited = 0;
    for (auto& entry : t.table) {
        ++visited;
        if (entry.key % 2 == 1)
            t.table.remove(entry);
    }
    EXPECT_EQ(visited, 50u);
    EXPECT_EQ(t.table.count(), 25u);
    for (auto& entry : entries)
        EXPECT_EQ(t.table.find(entry->key) != nullptr, entry->key % 2 == 0);
    t.table.clear();
}

TEST(IntrusiveHashTable, RandomOperationsMatchAReferenceMap)
{
    Table<EntryKey, 64> t;
    std::map<uint32_t, std::unique_ptr<Entry>> model;
    std::mt19937 random(1234);
    for (int step = 0; step < 20000; ++step) {
        uint32_t key = random() % 500;
        auto found = model.find(key);
        if (found == model.end()) {
            auto entry = std::make_unique<Entry>(key);
            MUST(t.table.try_insert(*entry));
            model.emplace(key, std::move(entry));
        } else {
            EXPECT_EQ(t.table.find(key), found->second.get());
            t.table.remove(*found->second);
            model.erase(found);
        }
        ASSERT_EQ(t.table.count(), model.size());
    }
    for (auto& [key, entry] : model)
        ASSERT_EQ(t.table.find(key), entry.get());
    t.table.clear();
}

TEST(IntrusiveHashTable, OneBucketWorks)
{
    Table<EntryKey, 1> t;
    Entry a(1), b(2);
    MUST(t.table.try_insert(a));
    MUST(t.table.try_insert(b));
    EXPECT_EQ(t.table.find(2), &b);
    t.table.clear();
}

using SmallTable = Table<EntryKey, 4>;
using PlainTable = IntrusiveHashTable<Entry, &Entry::hash_node, EntryKey>;

TEST(IntrusiveHashTableDeathTest, MisuseVerifies)
{
    IntrusiveHashBucket three[3];
    EXPECT_DEATH(PlainTable { three }, "is_power_of_two");
    EXPECT_DEATH(
        {
            SmallTable t;
            Entry a(1);
            t.table.remove(a);
        },
        "VERIFY\\(node.is_linked\\(\\)\\)");
    EXPECT_DEATH(
        {
            SmallTable t;
            Entry a(1);
            MUST(t.table.try_insert(a));
            MUST(t.table.try_insert(a));
        },
        "VERIFY\\(!node.is_linked\\(\\)\\)");
}

} // namespace
