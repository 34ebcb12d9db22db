#pragma once
// The loopback transport: two monitors on one node (co-located roles) talk
// through the same messages as remote ones, never by calling each other
// (DESIGN section 1). A LoopbackLink is the "cable" and owns both ends.
//
// Costs are what the verbs imply and no more: send() copies the message
// once (SEND semantics: the caller's buffer is free when it returns), an
// RDMA WRITE or READ copies once between the registered buffers, at post
// time, so the data is in place before any SEND posted after it can be
// delivered (the RC ordering rule). Deliveries are queued and handed out by
// run(), never from inside a post, so endpoints may post from callbacks.
//
// Both ends share the node's MemoryRegionTable; an RDMA operation on a bad
// rkey or range fails its completion with REMOTEIO and takes the link to
// the error state, as a remote access error does on an RC QP.

#include <kernel/lib/error_or.h>
#include <kernel/lib/vector.h>
#include <net/rpc/lib/memory_region_table.h>
#include <net/rpc/lib/rpc_transport.h>

namespace tessera::rpc {

class LoopbackLink;

class LoopbackTransport final : public RpcTransport {
public:
    void attach(RpcTransportSink& sink) override { m_sink = &sink; }
    size_t max_message_size() const override;
    ErrorOr<void> send(Span<const uint8_t> message, uint64_t now_ns) override;
    ErrorOr<void> rdma_write(
        uint64_t work_id, Span<const uint8_t> local, uint32_t lkey, RemoteBuffer remote, uint64_t now_ns) override;
    ErrorOr<void> rdma_read(
        uint64_t work_id, RemoteBuffer remote, Span<uint8_t> local, uint32_t lkey, uint64_t now_ns) override;

private:
    friend class LoopbackLink;

    enum class EventKind : uint8_t { Message, Completion, Failure };
    struct Event {
        EventKind kind { EventKind::Message };
        Vector<uint8_t> bytes;
        uint64_t work_id { 0 };
        Errno error { Errno::IO };
        bool failed { false };
    };

    ErrorOr<void> queue_completion(uint64_t work_id, ErrorOr<void> result);
    // Delivers what was queued before the call; returns how many.
    size_t deliver(uint64_t now_ns, size_t budget);

    LoopbackLink* m_link { nullptr };
    LoopbackTransport* m_peer { nullptr };
    RpcTransportSink* m_sink { nullptr };
    Vector<Event> m_inbox;
};

class LoopbackLink {
public:
    explicit LoopbackLink(MemoryRegionTable& memory);
    LoopbackLink(const LoopbackLink&) = delete;
    LoopbackLink& operator=(const LoopbackLink&) = delete;

    LoopbackTransport& first() { return m_ends[0]; }
    LoopbackTransport& second() { return m_ends[1]; }
    MemoryRegionTable& memory() { return m_memory; }

    // Delivers queued events to both ends, and what those deliveries queue
    // in turn, until nothing is left or `budget` events were delivered.
    // Returns the number delivered.
    size_t run(uint64_t now_ns, size_t budget = SIZE_MAX);
    bool idle() const { return m_ends[0].m_inbox.is_empty() && m_ends[1].m_inbox.is_empty(); }

    // The QP goes to the error state: both ends hear transport_failed once,
    // and every later post fails with NOTCONN.
    void fail(Errno reason);
    bool failed() const { return m_failed; }

private:
    LoopbackTransport m_ends[2];
    MemoryRegionTable& m_memory;
    bool m_failed { false };
};

} // namespace tessera::rpc
