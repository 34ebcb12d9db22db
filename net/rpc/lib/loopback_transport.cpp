#include <kernel/lib/string.h>
#include <managers/protocol/lib/message_header.h>
#include <net/rpc/lib/loopback_transport.h>

namespace tessera::rpc {

size_t LoopbackTransport::max_message_size() const { return protocol::kMaxMessageSize; }

ErrorOr<void> LoopbackTransport::send(Span<const uint8_t> message, uint64_t)
{
    if (m_link->failed())
        return Error(Errno::NOTCONN, "loopback link in error");
    if (message.size() > max_message_size())
        return Error(Errno::MSGSIZE, "message larger than a SEND");
    Event event;
    TRY(event.bytes.try_resize(message.size()));
    if (!message.is_empty())
        memcpy(event.bytes.data(), message.data(), message.size());
    TRY(m_peer->m_inbox.try_append(kstd::move(event)));
    return {};
}

ErrorOr<void> LoopbackTransport::queue_completion(uint64_t work_id, ErrorOr<void> result)
{
    Event event;
    event.kind = EventKind::Completion;
    event.work_id = work_id;
    if (result.is_error()) {
        event.failed = true;
        event.error = result.error().code();
    }
    return m_inbox.try_append(kstd::move(event));
}

ErrorOr<void> LoopbackTransport::rdma_write(
    uint64_t work_id, Span<const uint8_t> local, uint32_t, RemoteBuffer remote, uint64_t)
{
    if (m_link->failed())
        return Error(Errno::NOTCONN, "loopback link in error");
    // Reserve the completion first so that a post never half happens.
    TRY(m_inbox.try_reserve(m_inbox.size() + 1));
    auto target = m_link->memory().resolve(remote.address, remote.rkey, local.size(), RegionAccessRemoteWrite);
    if (target.is_error() || local.size() > remote.length) {
        MUST(queue_completion(work_id, Error(Errno::REMOTEIO, "remote access error")));
        m_link->fail(Errno::REMOTEIO);
        return {};
    }
    if (!local.is_empty())
        memmove(target.value().data(), local.data(), local.size());
    MUST(queue_completion(work_id, {}));
    return {};
}

ErrorOr<void> LoopbackTransport::rdma_read(
    uint64_t work_id, RemoteBuffer remote, Span<uint8_t> local, uint32_t, uint64_t)
{
    if (m_link->failed())
        return Error(Errno::NOTCONN, "loopback link in error");
    TRY(m_inbox.try_reserve(m_inbox.size() + 1));
    auto source = m_link->memory().resolve(remote.address, remote.rkey, local.size(), RegionAccessRemoteRead);
    if (source.is_error() || local.size() > remote.length) {
        MUST(queue_completion(work_id, Error(Errno::REMOTEIO, "remote access error")));
        m_link->fail(Errno::REMOTEIO);
        return {};
    }
    if (!local.is_empty())
        memmove(local.data(), source.value().data(), local.size());
    MUST(queue_completion(work_id, {}));
    return {};
}

size_t LoopbackTransport::deliver(uint64_t now_ns, size_t budget)
{
    Vector<Event> batch = kstd::move(m_inbox);
    m_inbox = Vector<Event>();
    size_t delivered = 0;
    size_t index = 0;
    for (; index < batch.size() && delivered < budget; ++index, ++delivered) {
        Event& event = batch[index];
        if (m_sink == nullptr)
            continue;
        switch (event.kind) {
        case EventKind::Message:
            m_sink->transport_received(event.bytes.span(), now_ns);
            break;
        case EventKind::Completion:
            if (event.failed)
                m_sink->transport_rdma_completed(event.work_id, Error(event.error), now_ns);
            else
                m_sink->transport_rdma_completed(event.work_id, {}, now_ns);
            break;
        case EventKind::Failure:
            m_sink->transport_failed(event.error, now_ns);
            break;
        }
    }
    // Over budget: put the rest back in front of what arrived meanwhile.
    if (index < batch.size()) {
        Vector<Event> rest;
        if (rest.try_reserve(batch.size() - index + m_inbox.size()).is_error())
            return delivered; // FIXME: events dropped under memory pressure
        for (size_t i = index; i < batch.size(); ++i)
            MUST(rest.try_append(kstd::move(batch[i])));
        for (auto& later : m_inbox)
            MUST(rest.try_append(kstd::move(later)));
        m_inbox = kstd::move(rest);
    }
    return delivered;
}

LoopbackLink::LoopbackLink(MemoryRegionTable& memory)
    : m_memory(memory)
{
    m_ends[0].m_link = this;
    m_ends[0].m_peer = &m_ends[1];
    m_ends[1].m_link = this;
    m_ends[1].m_peer = &m_ends[0];
}

size_t LoopbackLink::run(uint64_t now_ns, size_t budget)
{
    size_t delivered = 0;
    while (!idle() && delivered < budget) {
        delivered += m_ends[0].deliver(now_ns, budget - delivered);
        if (delivered < budget)
            delivered += m_ends[1].deliver(now_ns, budget - delivered);
    }
    return delivered;
}

void LoopbackLink::fail(Errno reason)
{
    if (m_failed)
        return;
    m_failed = true;
    for (auto& end : m_ends) {
        // A failed QP flushes what it had not delivered; completions stay
        // (they carry the flush), messages go.
        Vector<LoopbackTransport::Event> kept;
        for (auto& event : end.m_inbox) {
            if (event.kind != LoopbackTransport::EventKind::Message)
                (void)kept.try_append(kstd::move(event));
        }
        LoopbackTransport::Event failure;
        failure.kind = LoopbackTransport::EventKind::Failure;
        failure.error = reason;
        (void)kept.try_append(kstd::move(failure));
        end.m_inbox = kstd::move(kept);
    }
}

} // namespace tessera::rpc
