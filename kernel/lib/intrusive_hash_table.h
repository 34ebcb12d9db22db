#pragma once
// A chained hash table whose nodes live inside the objects and whose bucket
// array belongs to the owner, so inserting, finding and removing never
// allocate: usable in IRQ and RX paths (QPN -> queue pair, rkey -> memory
// region). Keys are unique; the table does no locking of its own.
//
//   struct QueuePairKey {
//       using Key = uint32_t;
//       static Key key_of(const QueuePair& qp) { return qp.number(); }
//       static uint64_t hash(Key key) { return key; }   // mixed by the table
//       // optional: static bool equals(Key, Key); default ==
//   };
//   IntrusiveHashBucket s_buckets[256];
//   IntrusiveHashTable<QueuePair, &QueuePair::m_hash_node, QueuePairKey> s_qps { s_buckets };
//
// The bucket count must be a power of two. The table never resizes: size
// the array for the expected load (a chain walk is O(count / buckets)).

#include <kernel/lib/assert.h>
#include <kernel/lib/checked.h>
#include <kernel/lib/container_of.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>
#include <kernel/lib/span.h>

namespace tessera {

class IntrusiveHashNode {
public:
    IntrusiveHashNode() = default;
    IntrusiveHashNode(const IntrusiveHashNode&) = delete;
    IntrusiveHashNode& operator=(const IntrusiveHashNode&) = delete;
    ~IntrusiveHashNode() { VERIFY(!is_linked()); }

    bool is_linked() const { return m_pprev != nullptr; }

private:
    template<typename T, IntrusiveHashNode T::*member, typename KeyTraits>
    friend class IntrusiveHashTable;

    IntrusiveHashNode* m_next { nullptr };
    // The pointer that points at us (a bucket head or the previous node's
    // m_next), so that removal needs neither the key nor a chain walk.
    IntrusiveHashNode** m_pprev { nullptr };
};

struct IntrusiveHashBucket {
    IntrusiveHashNode* m_first { nullptr };
};

template<typename T, IntrusiveHashNode T::*member, typename KeyTraits>
class IntrusiveHashTable {
public:
    using Key = typename KeyTraits::Key;

    explicit IntrusiveHashTable(Span<IntrusiveHashBucket> buckets)
        : m_buckets(buckets)
    {
        VERIFY(is_power_of_two(buckets.size()));
        for (auto& bucket : buckets)
            VERIFY(bucket.m_first == nullptr);
        m_shift = 64 - __builtin_ctzll(buckets.size());
    }
    IntrusiveHashTable(const IntrusiveHashTable&) = delete;
    IntrusiveHashTable& operator=(const IntrusiveHashTable&) = delete;
    ~IntrusiveHashTable() { clear(); }

    size_t count() const { return m_count; }
    bool is_empty() const { return m_count == 0; }
    size_t bucket_count() const { return m_buckets.size(); }

    // Links `object`; EEXIST if an object with the same key is present.
    ErrorOr<void> try_insert(T& object)
    {
        auto& node = object.*member;
        VERIFY(!node.is_linked());
        auto key = KeyTraits::key_of(object);
        auto& bucket = bucket_for(key);
        if (find_in(bucket, key) != nullptr)
            return Error(Errno::EXIST, "key already in the hash table");
        node.m_next = bucket.m_first;
        if (node.m_next != nullptr)
            node.m_next->m_pprev = &node.m_next;
        node.m_pprev = &bucket.m_first;
        bucket.m_first = &node;
        ++m_count;
        return {};
    }

    T* find(const Key& key) { return find_in(bucket_for(key), key); }
    const T* find(const Key& key) const { return const_cast<IntrusiveHashTable*>(this)->find(key); }

    // Unlinks `object`, which must be in this table.
    void remove(T& object)
    {
        auto& node = object.*member;
        VERIFY(node.is_linked());
        VERIFY(m_count > 0);
        *node.m_pprev = node.m_next;
        if (node.m_next != nullptr)
            node.m_next->m_pprev = node.m_pprev;
        node.m_next = nullptr;
        node.m_pprev = nullptr;
        --m_count;
    }

    // Unlinks and returns the object with `key`, or nullptr.
    T* take(const Key& key)
    {
        T* object = find(key);
        if (object != nullptr)
            remove(*object);
        return object;
    }

    void clear()
    {
        for (auto& bucket : m_buckets) {
            while (bucket.m_first != nullptr)
                remove(*object_of(bucket.m_first));
        }
    }

    // Iteration in bucket order. The loop body may remove the current
    // object (the iterator has already read its successor), but no other.
    class Iterator {
    public:
        T& operator*() const { return *object_of(m_node); }
        T* operator->() const { return object_of(m_node); }
        bool operator==(const Iterator& other) const { return m_node == other.m_node; }
        Iterator& operator++()
        {
            m_node = m_next;
            settle();
            return *this;
        }

    private:
        friend class IntrusiveHashTable;
        Iterator(const IntrusiveHashTable* table, size_t bucket, IntrusiveHashNode* node)
            : m_table(table)
            , m_bucket(bucket)
            , m_node(node)
        {
            settle();
        }
        // Moves to the next non-empty bucket if needed; caches the successor.
        void settle()
        {
            while (m_node == nullptr && m_table != nullptr && ++m_bucket < m_table->m_buckets.size())
                m_node = m_table->m_buckets[m_bucket].m_first;
            m_next = m_node != nullptr ? m_node->m_next : nullptr;
        }

        const IntrusiveHashTable* m_table;
        size_t m_bucket;
        IntrusiveHashNode* m_node;
        IntrusiveHashNode* m_next { nullptr };
    };

    Iterator begin() { return Iterator(this, 0, m_buckets[0].m_first); }
    Iterator end() { return Iterator(nullptr, 0, nullptr); }

private:
    static T* object_of(IntrusiveHashNode* node) { return container_of<T, IntrusiveHashNode, member>(node); }

    static bool equals(const Key& a, const Key& b)
    {
        if constexpr (requires { KeyTraits::equals(a, b); })
            return KeyTraits::equals(a, b);
        else
            return a == b;
    }

    IntrusiveHashBucket& bucket_for(const Key& key)
    {
        // Fibonacci hashing: the top bits of hash * 2^64/phi, so that weak
        // hashes (aligned addresses, sequential numbers) still spread.
        uint64_t mixed = static_cast<uint64_t>(KeyTraits::hash(key)) * 0x9e3779b97f4a7c15ull;
        size_t index = m_shift == 64 ? 0 : static_cast<size_t>(mixed >> m_shift);
        return m_buckets[index];
    }

    static T* find_in(IntrusiveHashBucket& bucket, const Key& key)
    {
        for (auto* node = bucket.m_first; node != nullptr; node = node->m_next) {
            T* object = object_of(node);
            if (equals(KeyTraits::key_of(*object), key))
                return object;
        }
        return nullptr;
    }

    Span<IntrusiveHashBucket> m_buckets;
    unsigned m_shift { 64 };
    size_t m_count { 0 };
};

} // namespace tessera
