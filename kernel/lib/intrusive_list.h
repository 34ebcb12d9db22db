#pragma once
// A doubly linked list whose nodes live inside the listed objects, so that
// linking and unlinking never allocate (safe in IRQ, fault and RX paths).
//
//   struct Thread { IntrusiveListNode m_run_node; };
//   IntrusiveList<Thread, &Thread::m_run_node> run_queue;

#include <kernel/lib/assert.h>
#include <kernel/lib/kstd.h>

namespace tessera {

class IntrusiveListNode {
public:
    IntrusiveListNode() = default;
    IntrusiveListNode(const IntrusiveListNode&) = delete;
    IntrusiveListNode& operator=(const IntrusiveListNode&) = delete;
    ~IntrusiveListNode() { VERIFY(!is_linked()); }

    bool is_linked() const { return m_next != nullptr; }

private:
    template<typename T, IntrusiveListNode T::*member>
    friend class IntrusiveList;

    IntrusiveListNode* m_next { nullptr };
    IntrusiveListNode* m_prev { nullptr };
};

template<typename T, IntrusiveListNode T::*member>
class IntrusiveList {
public:
    IntrusiveList()
    {
        m_head.m_next = &m_head;
        m_head.m_prev = &m_head;
    }
    IntrusiveList(const IntrusiveList&) = delete;
    IntrusiveList& operator=(const IntrusiveList&) = delete;
    ~IntrusiveList()
    {
        // Unlink everything so no node is left pointing at a dead head.
        while (take_first() != nullptr) { }
        m_head.m_next = nullptr;
        m_head.m_prev = nullptr;
    }

    bool is_empty() const { return m_head.m_next == &m_head; }

    size_t size() const
    {
        size_t n = 0;
        for (auto* node = m_head.m_next; node != &m_head; node = node->m_next)
            ++n;
        return n;
    }

    void append(T& object) { insert_before(m_head, node_of(object)); }
    void prepend(T& object) { insert_before(*m_head.m_next, node_of(object)); }

    // Inserts `object` before `position` (which must be in this list).
    void insert_before(T& position, T& object) { insert_before(node_of(position), node_of(object)); }

    void remove(T& object)
    {
        auto& node = node_of(object);
        VERIFY(node.is_linked());
        node.m_prev->m_next = node.m_next;
        node.m_next->m_prev = node.m_prev;
        node.m_next = nullptr;
        node.m_prev = nullptr;
    }

    T* first() { return is_empty() ? nullptr : object_of(m_head.m_next); }
    T* last() { return is_empty() ? nullptr : object_of(m_head.m_prev); }

    T* take_first()
    {
        T* object = first();
        if (object != nullptr)
            remove(*object);
        return object;
    }

    // Iteration; the body must not unlink the current element (use
    // take_first() or next_of() captured beforehand for that).
    T* next_of(T& object)
    {
        auto* next = node_of(object).m_next;
        return next == &m_head ? nullptr : object_of(next);
    }

    template<typename Callback>
    void for_each(Callback callback)
    {
        for (auto* node = m_head.m_next; node != &m_head;) {
            auto* next = node->m_next;
            callback(*object_of(node));
            node = next;
        }
    }

private:
    static IntrusiveListNode& node_of(T& object) { return object.*member; }
    static T* object_of(IntrusiveListNode* node)
    {
        // The node's offset inside T, computed without a live T.
        alignas(T) static constexpr char dummy[sizeof(T)] {};
        auto offset = reinterpret_cast<const char*>(&(reinterpret_cast<const T*>(dummy)->*member)) - dummy;
        return reinterpret_cast<T*>(reinterpret_cast<char*>(node) - offset);
    }
    static void insert_before(IntrusiveListNode& position, IntrusiveListNode& node)
    {
        VERIFY(!node.is_linked());
        node.m_next = &position;
        node.m_prev = position.m_prev;
        position.m_prev->m_next = &node;
        position.m_prev = &node;
    }

    IntrusiveListNode m_head;
};

} // namespace tessera
