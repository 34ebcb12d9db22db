#include <kernel/lib/intrusive_tree.h>

#include "allocation_failure.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <vector>

using namespace tessera;

namespace {

struct Item {
    explicit Item(int key)
        : key(key)
    {
    }
    int key;
    IntrusiveTreeNode tree_node;
};

struct ItemKey {
    using Key = int;
    static Key key_of(const Item& item) { return item.key; }
};
using Tree = IntrusiveTree<Item, &Item::tree_node, ItemKey>;

// A vma-like interval [start, end), looked up by any address inside it.
struct Range {
    Range(uintptr_t start, uintptr_t end)
        : start(start)
        , end(end)
    {
    }
    uintptr_t start;
    uintptr_t end;
    IntrusiveTreeNode tree_node;
};
struct RangeKey {
    using Key = uintptr_t;
    static Key key_of(const Range& range) { return range.start; }
    static bool contains(const Range& range, Key address) { return address < range.end; }
};

// Descending order through a custom less().
struct DescendingKey : ItemKey {
    static bool less(int a, int b) { return a > b; }
};

std::vector<int> keys_in_order(Tree& tree)
{
    std::vector<int> keys;
    for (auto& item : tree)
        keys.push_back(item.key);
    return keys;
}

TEST(IntrusiveTree, InsertFindRemoveInOrder)
{
    std::vector<std::unique_ptr<Item>> items;
    Tree tree;
    for (int key : { 50, 20, 80, 10, 30, 70, 90, 25 }) {
        items.push_back(std::make_unique<Item>(key));
        MUST(tree.try_insert(*items.back()));
        ASSERT_TRUE(tree.check_invariants());
    }
    EXPECT_EQ(tree.count(), 8u);
    EXPECT_EQ(keys_in_order(tree), (std::vector<int> { 10, 20, 25, 30, 50, 70, 80, 90 }));
    EXPECT_EQ(tree.find(30)->key, 30);
    EXPECT_EQ(tree.find(31), nullptr);
    EXPECT_EQ(tree.first()->key, 10);
    EXPECT_EQ(tree.last()->key, 90);
    EXPECT_EQ(Tree::next(*tree.find(30))->key, 50);
    EXPECT_EQ(Tree::previous(*tree.find(50))->key, 30);
    EXPECT_EQ(Tree::next(*tree.find(90)), nullptr);
    EXPECT_EQ(Tree::previous(*tree.find(10)), nullptr);
    tree.remove(*tree.find(50)); // the root, with two children
    ASSERT_TRUE(tree.check_invariants());
    tree.remove(*tree.find(10)); // a leaf
    ASSERT_TRUE(tree.check_invariants());
    EXPECT_EQ(keys_in_order(tree), (std::vector<int> { 20, 25, 30, 70, 80, 90 }));
    tree.clear();
    EXPECT_TRUE(tree.is_empty());
    for (auto& item : items)
        EXPECT_FALSE(item->tree_node.is_linked());
}

TEST(IntrusiveTree, DuplicateKeysAreRejected)
{
    Item a(1), twin(1);
    Tree tree;
    MUST(tree.try_insert(a));
    auto result = tree.try_insert(twin);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), Errno::EXIST);
    EXPECT_FALSE(twin.tree_node.is_linked());
    EXPECT_EQ(tree.count(), 1u);
    EXPECT_TRUE(tree.check_invariants());
}

TEST(IntrusiveTree, BoundsAndFloor)
{
    std::vector<std::unique_ptr<Item>> items;
    Tree tree;
    EXPECT_EQ(tree.lower_bound(0), nullptr);
    EXPECT_EQ(tree.floor(0), nullptr);
    for (int key = 10; key <= 100; key += 10) {
        items.push_back(std::make_unique<Item>(key));
        MUST(tree.try_insert(*items.back()));
    }
    EXPECT_EQ(tree.lower_bound(30)->key, 30);
    EXPECT_EQ(tree.lower_bound(31)->key, 40);
    EXPECT_EQ(tree.lower_bound(5)->key, 10);
    EXPECT_EQ(tree.lower_bound(101), nullptr);
    EXPECT_EQ(tree.upper_bound(30)->key, 40);
    EXPECT_EQ(tree.upper_bound(29)->key, 30);
    EXPECT_EQ(tree.upper_bound(100), nullptr);
    EXPECT_EQ(tree.floor(30)->key, 30);
    EXPECT_EQ(tree.floor(39)->key, 30);
    EXPECT_EQ(tree.floor(9), nullptr);
    EXPECT_EQ(tree.floor(1000)->key, 100);
    tree.clear();
}

TEST(IntrusiveTree, FindContainingAnAddress)
{
    // [0x1000,0x3000) [0x3000,0x4000) hole [0x8000,0x9000)
    Range a(0x1000, 0x3000), b(0x3000, 0x4000), c(0x8000, 0x9000);
    IntrusiveTree<Range, &Range::tree_node, RangeKey> vmas;
    MUST(vmas.try_insert(c));
    MUST(vmas.try_insert(a));
    MUST(vmas.try_insert(b));
    EXPECT_EQ(vmas.find_containing(0x0fff), nullptr);
    EXPECT_EQ(vmas.find_containing(0x1000), &a);
    EXPECT_EQ(vmas.find_containing(0x2fff), &a);
    EXPECT_EQ(vmas.find_containing(0x3000), &b);
    EXPECT_EQ(vmas.find_containing(0x4000), nullptr); // end is exclusive
    EXPECT_EQ(vmas.find_containing(0x7fff), nullptr);
    EXPECT_EQ(vmas.find_containing(0x8abc), &c);
    EXPECT_EQ(vmas.find_containing(0x9000), nullptr);
    vmas.clear();
}

TEST(IntrusiveTree, CustomLessOrdersTheTree)
{
    std::vector<std::unique_ptr<Item>> items;
    IntrusiveTree<Item, &Item::tree_node, DescendingKey> tree;
    for (int key : { 3, 1, 4, 5, 9, 2, 6 }) {
        items.push_back(std::make_unique<Item>(key));
        MUST(tree.try_insert(*items.back()));
    }
    std::vector<int> keys;
    for (auto& item : tree)
        keys.push_back(item.key);
    EXPECT_EQ(keys, (std::vector<int> { 9, 6, 5, 4, 3, 2, 1 }));
    EXPECT_TRUE(tree.check_invariants());
    tree.clear();
}

TEST(IntrusiveTree, IterationMayRemoveTheCurrentObject)
{
    std::vector<std::unique_ptr<Item>> items;
    Tree tree;
    for (int key = 0; key < 100; ++key) {
        items.push_back(std::make_unique<Item>(key));
        MUST(tree.try_insert(*items.back()));
    }
    int visited = 0;
    for (auto& item : tree) {
        ++visited;
        if (item.key % 3 != 0)
            tree.remove(item);
    }
    EXPECT_EQ(visited, 100);
    EXPECT_EQ(tree.count(), 34u);
    EXPECT_TRUE(tree.check_invariants());
    for (auto& item : tree)
        EXPECT_EQ(item.key % 3, 0);
    tree.clear();
}

// Sequential insertion is the worst case for an unbalanced tree; AVL keeps
// the height within 1.44 log2(n).
TEST(IntrusiveTree, SequentialInsertsStayBalanced)
{
    constexpr int n = 4096;
    std::vector<std::unique_ptr<Item>> items;
    Tree tree;
    for (int key = 0; key < n; ++key) {
        items.push_back(std::make_unique<Item>(key));
        MUST(tree.try_insert(*items.back()));
    }
    ASSERT_TRUE(tree.check_invariants());
    EXPECT_LE(tree.height(), 18); // 1.44 * log2(4096) ~ 17.3
    for (int key = 0; key < n; key += 2)
        tree.remove(*items[key]);
    ASSERT_TRUE(tree.check_invariants());
    tree.clear();
}

// Thousands of random operations against std::map, with the invariants
// checked after every one (fixed seed, so a failure reproduces).
TEST(IntrusiveTree, RandomInsertRemoveKeepsInvariants)
{
    std::mt19937 random(20240601);
    std::map<int, std::unique_ptr<Item>> model;
    Tree tree;
    tessera::test::FailAllocations no_heap; // the tree itself never allocates
    for (int step = 0; step < 6000; ++step) {
        int key = static_cast<int>(random() % 1000);
        auto found = model.find(key);
        if (found == model.end()) {
            // std::map allocates with throwing new, which the hook leaves alone.
            auto item = std::make_unique<Item>(key);
            MUST(tree.try_insert(*item));
            model.emplace(key, std::move(item));
        } else {
            ASSERT_EQ(tree.find(key), found->second.get());
            tree.remove(*found->second);
            model.erase(found);
        }
        ASSERT_TRUE(tree.check_invariants()) << "step " << step;
        ASSERT_EQ(tree.count(), model.size());
        if (step % 500 == 0) {
            std::vector<int> expected;
            for (auto& [k, item] : model)
                expected.push_back(k);
            ASSERT_EQ(keys_in_order(tree), expected);
            int probe = static_cast<int>(random() % 1000);
            auto lower = model.lower_bound(probe);
            EXPECT_EQ(tree.lower_bound(probe), lower == model.end() ? nullptr : lower->second.get());
            auto upper = model.upper_bound(probe);
            EXPECT_EQ(tree.upper_bound(probe), upper == model.end() ? nullptr : upper->second.get());
        }
    }
    EXPECT_EQ(no_heap.failures(), 0u);
    tree.clear();
}

TEST(IntrusiveTreeDeathTest, MisuseVerifies)
{
    EXPECT_DEATH(
        {
            Item a(1);
            Tree tree;
            tree.remove(a);
        },
        "VERIFY\\(node->is_linked\\(\\)\\)");
    EXPECT_DEATH(
        {
            Tree tree;
            Item a(1);
            MUST(tree.try_insert(a));
        }, // `a` dies while still linked
        "VERIFY\\(!is_linked\\(\\)\\)");
}

} // namespace
