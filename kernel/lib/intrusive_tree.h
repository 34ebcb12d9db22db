#pragma once
// An AVL tree whose nodes live inside the objects, ordered by a unique key:
// insert, find and remove never allocate (page-fault paths use it), and
// every operation is O(log n). The tree does no locking of its own.
//
//   struct VmaKey {
//       using Key = uintptr_t;
//       static Key key_of(const Vma& vma) { return vma.start(); }
//       // optional: static bool less(Key, Key); default <
//       // optional, for find_containing():
//       static bool contains(const Vma& vma, Key address) { return address < vma.end(); }
//   };
//   IntrusiveTree<Vma, &Vma::m_tree_node, VmaKey> m_vmas;
//   Vma* vma = m_vmas.find_containing(fault_address);
//
// find_containing(k) is floor(k) (the greatest key <= k) checked with
// KeyTraits::contains, which finds the interval holding k when the objects'
// intervals do not overlap.

#include <kernel/lib/assert.h>
#include <kernel/lib/container_of.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

class IntrusiveTreeNode {
public:
    IntrusiveTreeNode() = default;
    IntrusiveTreeNode(const IntrusiveTreeNode&) = delete;
    IntrusiveTreeNode& operator=(const IntrusiveTreeNode&) = delete;
    ~IntrusiveTreeNode() { VERIFY(!is_linked()); }

    bool is_linked() const { return m_height != 0; }

private:
    template<typename T, IntrusiveTreeNode T::*member, typename KeyTraits>
    friend class IntrusiveTree;

    IntrusiveTreeNode* m_left { nullptr };
    IntrusiveTreeNode* m_right { nullptr };
    IntrusiveTreeNode* m_parent { nullptr };
    int m_height { 0 }; // a leaf is 1; 0 means "not in a tree"
};

template<typename T, IntrusiveTreeNode T::*member, typename KeyTraits>
class IntrusiveTree {
public:
    using Key = typename KeyTraits::Key;
    using Node = IntrusiveTreeNode;

    IntrusiveTree() = default;
    IntrusiveTree(const IntrusiveTree&) = delete;
    IntrusiveTree& operator=(const IntrusiveTree&) = delete;
    ~IntrusiveTree() { clear(); }

    size_t count() const { return m_count; }
    bool is_empty() const { return m_root == nullptr; }
    // Levels from the root to the deepest leaf (AVL: at most 1.44 log2 n).
    int height() const { return height(m_root); }

    // Links `object`; EEXIST if an object with an equal key is present.
    ErrorOr<void> try_insert(T& object)
    {
        Node& node = object.*member;
        VERIFY(!node.is_linked());
        auto key = KeyTraits::key_of(object);
        Node* parent = nullptr;
        Node** link = &m_root;
        while (*link != nullptr) {
            parent = *link;
            auto parent_key = KeyTraits::key_of(*object_of(parent));
            if (less(key, parent_key))
                link = &parent->m_left;
            else if (less(parent_key, key))
                link = &parent->m_right;
            else
                return Error(Errno::EXIST, "key already in the tree");
        }
        node.m_left = node.m_right = nullptr;
        node.m_parent = parent;
        node.m_height = 1;
        *link = &node;
        ++m_count;
        retrace(parent);
        return {};
    }

    // Unlinks `object`, which must be in this tree.
    void remove(T& object)
    {
        Node* node = &(object.*member);
        VERIFY(node->is_linked());
        Node* retrace_from;
        if (node->m_left != nullptr && node->m_right != nullptr) {
            // Put the successor (leftmost of the right subtree) in its place;
            // the retrace below passes through it and fixes its height.
            Node* successor = leftmost(node->m_right);
            if (successor->m_parent == node) {
                retrace_from = successor;
            } else {
                retrace_from = successor->m_parent;
                retrace_from->m_left = successor->m_right;
                if (successor->m_right != nullptr)
                    successor->m_right->m_parent = retrace_from;
                successor->m_right = node->m_right;
                node->m_right->m_parent = successor;
            }
            successor->m_left = node->m_left;
            node->m_left->m_parent = successor;
            successor->m_height = node->m_height;
            replace_child(node->m_parent, node, successor);
        } else {
            Node* child = node->m_left != nullptr ? node->m_left : node->m_right;
            retrace_from = node->m_parent;
            replace_child(node->m_parent, node, child);
        }
        node->m_left = node->m_right = node->m_parent = nullptr;
        node->m_height = 0;
        --m_count;
        retrace(retrace_from);
    }

    void clear()
    {
        while (m_root != nullptr)
            remove(*object_of(m_root));
    }

    T* find(const Key& key)
    {
        Node* node = m_root;
        while (node != nullptr) {
            auto node_key = KeyTraits::key_of(*object_of(node));
            if (less(key, node_key))
                node = node->m_left;
            else if (less(node_key, key))
                node = node->m_right;
            else
                return object_of(node);
        }
        return nullptr;
    }

    // The first object whose key is >= `key`, or nullptr.
    T* lower_bound(const Key& key)
    {
        return search([&](const Key& node_key) { return !less(node_key, key); }, true);
    }
    // The first object whose key is > `key`, or nullptr.
    T* upper_bound(const Key& key)
    {
        return search([&](const Key& node_key) { return less(key, node_key); }, true);
    }
    // The last object whose key is <= `key`, or nullptr.
    T* floor(const Key& key)
    {
        return search([&](const Key& node_key) { return !less(key, node_key); }, false);
    }
    // The object whose interval holds `key` (see the top of this file).
    T* find_containing(const Key& key)
    {
        T* candidate = floor(key);
        return candidate != nullptr && KeyTraits::contains(*candidate, key) ? candidate : nullptr;
    }

    T* first() { return m_root == nullptr ? nullptr : object_of(leftmost(m_root)); }
    T* last() { return m_root == nullptr ? nullptr : object_of(rightmost(m_root)); }
    // In-order neighbours of a linked object, or nullptr at the ends.
    static T* next(T& object) { return object_or_null(successor(&(object.*member))); }
    static T* previous(T& object) { return object_or_null(predecessor(&(object.*member))); }

    // In-order iteration. The loop body may remove the current object (the
    // iterator has already found its successor), but no other.
    class Iterator {
    public:
        T& operator*() const { return *object_of(m_node); }
        T* operator->() const { return object_of(m_node); }
        bool operator==(const Iterator& other) const { return m_node == other.m_node; }
        Iterator& operator++()
        {
            m_node = m_next;
            m_next = m_node != nullptr ? successor(m_node) : nullptr;
            return *this;
        }

    private:
        friend class IntrusiveTree;
        explicit Iterator(Node* node)
            : m_node(node)
            , m_next(node != nullptr ? successor(node) : nullptr)
        {
        }
        Node* m_node;
        Node* m_next;
    };
    Iterator begin() { return Iterator(m_root == nullptr ? nullptr : leftmost(m_root)); }
    Iterator end() { return Iterator(nullptr); }

    // Debug check of every structural property: parent links, strict key
    // order, stored heights, AVL balance and the count. Tests call it after
    // each operation; the kernel may VERIFY it in debug builds.
    bool check_invariants() const
    {
        if (m_root != nullptr && m_root->m_parent != nullptr)
            return false;
        size_t seen = 0;
        const Node* previous = nullptr;
        int height = 0;
        return check_subtree(m_root, previous, seen, height) && seen == m_count;
    }

private:
    static T* object_of(Node* node) { return container_of<T, Node, member>(node); }
    static T* object_or_null(Node* node) { return node == nullptr ? nullptr : object_of(node); }
    static const T& object_ref(const Node* node) { return *object_of(const_cast<Node*>(node)); }

    static bool less(const Key& a, const Key& b)
    {
        if constexpr (requires { KeyTraits::less(a, b); })
            return KeyTraits::less(a, b);
        else
            return a < b;
    }

    // Walks down for the leftmost (or rightmost, if !leftmost_match) node
    // satisfying `matches`, which must be monotone in key order.
    template<typename Predicate>
    T* search(Predicate matches, bool leftmost_match)
    {
        Node* best = nullptr;
        Node* node = m_root;
        while (node != nullptr) {
            bool hit = matches(KeyTraits::key_of(*object_of(node)));
            if (hit)
                best = node;
            if (hit == leftmost_match)
                node = node->m_left;
            else
                node = node->m_right;
        }
        return object_or_null(best);
    }

    static Node* leftmost(Node* node)
    {
        while (node->m_left != nullptr)
            node = node->m_left;
        return node;
    }
    static Node* rightmost(Node* node)
    {
        while (node->m_right != nullptr)
            node = node->m_right;
        return node;
    }
    static Node* successor(Node* node)
    {
        if (node->m_right != nullptr)
            return leftmost(node->m_right);
        while (node->m_parent != nullptr && node->m_parent->m_right == node)
            node = node->m_parent;
        return node->m_parent;
    }
    static Node* predecessor(Node* node)
    {
        if (node->m_left != nullptr)
            return rightmost(node->m_left);
        while (node->m_parent != nullptr && node->m_parent->m_left == node)
            node = node->m_parent;
        return node->m_parent;
    }

    static int height(const Node* node) { return node == nullptr ? 0 : node->m_height; }
    static void update_height(Node* node)
    {
        int left = height(node->m_left);
        int right = height(node->m_right);
        node->m_height = 1 + (left > right ? left : right);
    }

    // Makes `replacement` take `old`'s place under `parent` (or as root).
    void replace_child(Node* parent, Node* old, Node* replacement)
    {
        if (parent == nullptr)
            m_root = replacement;
        else if (parent->m_left == old)
            parent->m_left = replacement;
        else
            parent->m_right = replacement;
        if (replacement != nullptr)
            replacement->m_parent = parent;
    }

    Node* rotate_left(Node* node)
    {
        Node* pivot = node->m_right;
        node->m_right = pivot->m_left;
        if (pivot->m_left != nullptr)
            pivot->m_left->m_parent = node;
        replace_child(node->m_parent, node, pivot);
        pivot->m_left = node;
        node->m_parent = pivot;
        update_height(node);
        update_height(pivot);
        return pivot;
    }
    Node* rotate_right(Node* node)
    {
        Node* pivot = node->m_left;
        node->m_left = pivot->m_right;
        if (pivot->m_right != nullptr)
            pivot->m_right->m_parent = node;
        replace_child(node->m_parent, node, pivot);
        pivot->m_right = node;
        node->m_parent = pivot;
        update_height(node);
        update_height(pivot);
        return pivot;
    }

    // Restores heights and balance of `node`'s subtree; returns its new root.
    Node* rebalance(Node* node)
    {
        update_height(node);
        int balance = height(node->m_left) - height(node->m_right);
        if (balance > 1) {
            if (height(node->m_left->m_left) < height(node->m_left->m_right))
                rotate_left(node->m_left);
            return rotate_right(node);
        }
        if (balance < -1) {
            if (height(node->m_right->m_right) < height(node->m_right->m_left))
                rotate_right(node->m_right);
            return rotate_left(node);
        }
        return node;
    }

    // Rebalances from `node` up to the root after a link or unlink below it.
    void retrace(Node* node)
    {
        while (node != nullptr)
            node = rebalance(node)->m_parent;
    }

    bool check_subtree(const Node* node, const Node*& previous, size_t& seen, int& height_out) const
    {
        if (node == nullptr) {
            height_out = 0;
            return true;
        }
        for (const Node* child : { node->m_left, node->m_right }) {
            if (child != nullptr && child->m_parent != node)
                return false;
        }
        int left = 0;
        int right = 0;
        if (!check_subtree(node->m_left, previous, seen, left))
            return false;
        if (previous != nullptr && !less(KeyTraits::key_of(object_ref(previous)), KeyTraits::key_of(object_ref(node))))
            return false;
        previous = node;
        ++seen;
        if (!check_subtree(node->m_right, previous, seen, right))
            return false;
        height_out = 1 + (left > right ? left : right);
        int balance = left - right;
        return node->m_height == height_out && balance >= -1 && balance <= 1;
    }

    Node* m_root { nullptr };
    size_t m_count { 0 };
};

} // namespace tessera
