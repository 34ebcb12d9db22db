#pragma once
// A completion queue: a fixed-capacity FIFO of work completions, polled like
// ibv_poll_cq. request_notify() arms a one-shot callback (ibv_req_notify_cq)
// that runs when the next completion is added; the kernel glue uses it to
// wake a waiter. A full CQ drops the completion and counts it (rxe raises a
// CQ error event instead; nothing here can block).

#include <kernel/lib/error_or.h>
#include <kernel/lib/own_ptr.h>
#include <kernel/lib/span.h>
#include <kernel/lib/vector.h>
#include <net/rdma/lib/verbs.h>

namespace tessera::rdma {

class CompletionQueue {
public:
    using Callback = void (*)(CompletionQueue&, void* context);

    static ErrorOr<OwnPtr<CompletionQueue>> try_create(size_t capacity);

    // Moves up to entries.size() completions out, oldest first; returns how many.
    size_t poll(Span<WorkCompletion> entries);
    size_t size() const { return m_count; }
    size_t capacity() const { return m_entries.size(); }
    uint64_t overflows() const { return m_overflows; }

    void set_callback(Callback callback, void* context)
    {
        m_callback = callback;
        m_context = context;
    }
    // Arms the callback for the next completion (one-shot). With
    // solicited_only, only receive completions of solicited messages and
    // error completions fire it.
    void request_notify(bool solicited_only = false)
    {
        m_armed = true;
        m_solicited_only = solicited_only;
    }

    // For the engine: appends a completion (and fires an armed callback).
    void add(const WorkCompletion& completion, bool solicited = false);

    // Users (QPs) still referring to this CQ; destroy refuses while non-zero.
    uint32_t users() const { return m_users; }
    void add_user() { ++m_users; }
    void remove_user() { --m_users; }

private:
    CompletionQueue() = default;

    Vector<WorkCompletion> m_entries;
    size_t m_head { 0 };
    size_t m_count { 0 };
    uint64_t m_overflows { 0 };
    Callback m_callback { nullptr };
    void* m_context { nullptr };
    bool m_armed { false };
    bool m_solicited_only { false };
    uint32_t m_users { 0 };
};

} // namespace tessera::rdma
