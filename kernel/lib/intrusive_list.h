#pragma once
// A doubly linked list whose nodes live inside the listed objects, so that
// linking and unlinking never allocate (safe in IRQ, fault and RX paths).
//
//   struct Thread { IntrusiveListNode m_run_node; };
//   IntrusiveList<Thread, &Thread::m_run_node> run_queue;
//   for (Thread& thread : run_queue) { ... }
//
// Removal while iterating: the range-for body may unlink the element it is
// visiting (the iterator read the successor before handing it out), but no
// other element, and it must not re-insert it into this list (it could be
// visited again). The list does no locking of its own.

#include <kernel/lib/assert.h>
#include <kernel/lib/container_of.h>
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

    // The element after `object`, or nullptr at the end.
    T* next_of(T& object)
    {
        auto* next = node_of(object).m_next;
        return next == &m_head ? nullptr : object_of(next);
    }

    // Forward iteration; see the top of this file for removal.
    class Iterator {
    public:
        T& operator*() const { return *object_of(m_node); }
        T* operator->() const { return object_of(m_node); }
        bool operator==(const Iterator& other) const { return m_node == other.m_node; }
        Iterator& operator++()
        {
            m_node = m_next;
            m_next = m_node->m_next;
            return *this;
        }

    private:
        friend class IntrusiveList;
        explicit Iterator(IntrusiveListNode* node)
            : m_node(node)
            , m_next(node->m_next)
        {
        }
        IntrusiveListNode* m_node;
        IntrusiveListNode* m_next; // read before the body can unlink m_node
    };
    Iterator begin() { return Iterator(m_head.m_next); }
    Iterator end() { return Iterator(&m_head); }

    // As a range-for; the callback may unlink the element it is given.
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
    static T* object_of(IntrusiveListNode* node) { return container_of<T, IntrusiveListNode, member>(node); }
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
