#include <kernel/lib/string.h>
#include <managers/protocol/lib/message_codec.h>
#include <net/rpc/lib/rpc_endpoint.h>

namespace tessera::rpc {

using protocol::MessageHeader;
using protocol::Opcode;

namespace {

constexpr uint32_t kSeenWindowBits = 128;

} // namespace

RpcEndpoint::RpcEndpoint(RpcEndpointConfig config, RpcTransport& transport, RpcFailureHook* failure_hook)
    : m_config(config)
    , m_transport(transport)
    , m_failure_hook(failure_hook)
{
    if (m_config.window == 0)
        m_config.window = 1;
    if (m_config.window > kMaxWindow)
        m_config.window = kMaxWindow;
    if (m_config.default_timeout_ns == 0)
        m_config.default_timeout_ns = 10'000'000;
    for (uint32_t slot = 0; slot < kMaxServing; ++slot) {
        m_exchanges[slot].m_endpoint = this;
        m_exchanges[slot].m_slot = slot;
    }
    m_transport.attach(*this);
}

ErrorOr<void> RpcEndpoint::register_handler(Opcode opcode, RpcHandler& handler)
{
    if (protocol::opcode_info(static_cast<uint16_t>(opcode)) == nullptr)
        return Error(Errno::NOSYS, "no such opcode");
    if (handler_for(static_cast<uint16_t>(opcode)) != nullptr)
        return Error(Errno::EXIST, "opcode already has a handler");
    if (m_handler_count == kMaxHandlers)
        return Error(Errno::NOSPC, "handler table full");
    m_handlers[m_handler_count++] = { opcode, &handler };
    return {};
}

RpcHandler* RpcEndpoint::handler_for(uint16_t opcode) const
{
    for (uint32_t i = 0; i < m_handler_count; ++i) {
        if (static_cast<uint16_t>(m_handlers[i].opcode) == opcode)
            return m_handlers[i].handler;
    }
    return nullptr;
}

ErrorOr<uint64_t> RpcEndpoint::call(
    Opcode opcode, Span<const uint8_t> payload, RpcCompletion& completion, uint64_t now_ns, uint64_t timeout_ns)
{
    if (m_peer_failed)
        return Error(m_failure_reason, "peer has failed");
    if (m_in_flight >= m_config.window)
        return Error(Errno::AGAIN, "request window full");
    PendingCall* free_call = nullptr;
    for (auto& pending : m_calls) {
        if (!pending.in_use) {
            free_call = &pending;
            break;
        }
    }
    VERIFY(free_call != nullptr);

    uint64_t request_id = m_next_request_id;
    MessageHeader header = protocol::request_header(opcode, request_id, m_config.local_node);
    size_t size = TRY(protocol::encode_message(header, payload, { m_scratch, sizeof(m_scratch) }));
    if (size > m_transport.max_message_size())
        return Error(Errno::MSGSIZE, "request larger than the transport carries");
    TRY(m_transport.send({ m_scratch, size }, now_ns));

    ++m_next_request_id;
    uint64_t timeout = timeout_ns != 0 ? timeout_ns : m_config.default_timeout_ns;
    uint64_t deadline;
    if (__builtin_add_overflow(now_ns, timeout, &deadline))
        deadline = UINT64_MAX;
    *free_call = { request_id, deadline, &completion, opcode, true };
    ++m_in_flight;
    ++m_counters.requests_sent;
    return request_id;
}

void RpcEndpoint::finish(PendingCall& call, int32_t status, RpcOrigin origin, Span<const uint8_t> payload)
{
    // Free the slot first: the completion may issue the next request.
    RpcCompletion* completion = call.completion;
    RpcResult result { call.request_id, status, origin, payload };
    call = {};
    --m_in_flight;
    completion->rpc_completed(result);
}

void RpcEndpoint::poll(uint64_t now_ns)
{
    for (auto& pending : m_calls) {
        if (!pending.in_use || pending.deadline_ns > now_ns)
            continue;
        m_timed_out[m_timed_out_next] = pending.request_id;
        m_timed_out_next = (m_timed_out_next + 1) % kMaxWindow;
        ++m_counters.timeouts;
        finish(pending, static_cast<int32_t>(Errno::TIMEDOUT), RpcOrigin::Timeout, {});
        if (m_failure_hook != nullptr)
            m_failure_hook->rpc_peer_suspected(m_config.peer_node, Errno::TIMEDOUT, now_ns);
    }
}

uint64_t RpcEndpoint::next_deadline_ns() const
{
    uint64_t next = UINT64_MAX;
    for (const auto& pending : m_calls) {
        if (pending.in_use && pending.deadline_ns < next)
            next = pending.deadline_ns;
    }
    return next;
}

uint32_t RpcEndpoint::serving() const
{
    uint32_t count = 0;
    for (const auto& exchange : m_exchanges)
        count += exchange.m_in_use ? 1 : 0;
    return count;
}

void RpcEndpoint::fail_everything(Errno reason, uint64_t)
{
    m_peer_failed = true;
    m_failure_reason = reason;
    for (auto& pending : m_calls) {
        if (!pending.in_use)
            continue;
        ++m_counters.failed_by_peer_failure;
        finish(pending, static_cast<int32_t>(reason), RpcOrigin::PeerFailed, {});
    }
    // Requests of the peer's cannot be answered any more; RDMA still posted
    // on a failed QP is flushed by the transport, and its completion finds
    // the slot free (a generation mismatch) and is ignored.
    for (auto& exchange : m_exchanges) {
        if (exchange.m_in_use) {
            exchange.m_in_use = false;
            ++exchange.m_generation;
        }
    }
}

void RpcEndpoint::fail_peer(Errno reason, uint64_t now_ns)
{
    if (!m_peer_failed)
        fail_everything(reason, now_ns);
}

void RpcEndpoint::transport_failed(Errno reason, uint64_t now_ns)
{
    if (m_peer_failed)
        return;
    fail_everything(Errno::CONNRESET, now_ns);
    if (m_failure_hook != nullptr)
        m_failure_hook->rpc_peer_suspected(m_config.peer_node, reason, now_ns);
}

void RpcEndpoint::transport_received(Span<const uint8_t> message, uint64_t now_ns)
{
    if (m_peer_failed)
        return;
    auto decoded = protocol::decode_message(message);
    if (decoded.is_error()) {
        ++m_counters.malformed_messages;
        answer_malformed(message, decoded.error().code(), now_ns);
        return;
    }
    const MessageHeader& header = decoded.value().header;
    if (header.source_node != m_config.peer_node) {
        ++m_counters.wrong_source;
        return;
    }
    if (header.is_reply())
        receive_reply(header, decoded.value().payload);
    else
        receive_request(header, decoded.value().payload, now_ns);
}

// A request whose header we can trust enough to address an answer gets its
// errno back, so the peer fails fast instead of timing out. Anything else
// (a bad reply, an unknown opcode the peer could not decode an answer to,
// a wrong source) is dropped.
void RpcEndpoint::answer_malformed(Span<const uint8_t> message, Errno error, uint64_t now_ns)
{
    if (message.size() < sizeof(MessageHeader))
        return;
    MessageHeader header;
    memcpy(&header, message.data(), sizeof(header));
    if (header.is_reply() || header.version != protocol::kProtocolVersion || header.request_id == 0
        || header.source_node != m_config.peer_node || protocol::opcode_info(header.opcode) == nullptr)
        return;
    if (!accept_request_id(header.request_id))
        return;
    MessageHeader reply = protocol::reply_header(header, m_config.local_node, static_cast<int32_t>(error));
    auto size = protocol::encode_message(reply, {}, { m_scratch, sizeof(m_scratch) });
    if (size.is_error() || m_transport.send({ m_scratch, size.value() }, now_ns).is_error()) {
        ++m_counters.reply_send_errors;
        return;
    }
    ++m_counters.error_replies;
}

void RpcEndpoint::receive_reply(const MessageHeader& header, Span<const uint8_t> payload)
{
    for (auto& pending : m_calls) {
        if (!pending.in_use || pending.request_id != header.request_id)
            continue;
        if (static_cast<uint16_t>(pending.opcode) != header.opcode) {
            ++m_counters.protocol_errors;
            finish(pending, static_cast<int32_t>(Errno::PROTO), RpcOrigin::Protocol, {});
            return;
        }
        ++m_counters.replies_matched;
        finish(pending, header.status, RpcOrigin::Peer, payload);
        return;
    }
    classify_stray_reply(header.request_id);
}

void RpcEndpoint::classify_stray_reply(uint64_t request_id)
{
    if (request_id >= m_next_request_id) {
        ++m_counters.unknown_replies;
        return;
    }
    for (uint64_t timed_out : m_timed_out) {
        if (timed_out == request_id) {
            ++m_counters.late_replies;
            return;
        }
    }
    ++m_counters.duplicate_replies;
}

// At-most-once execution: RC never duplicates, but a lossy transport (the
// host simulation, a future UD one) may. Ids are issued in order, so a
// window of the last 128 behind the highest seen is enough; an id older
// than that is a straggler whose caller has long timed out.
bool RpcEndpoint::accept_request_id(uint64_t request_id)
{
    if (request_id > m_highest_request_seen) {
        shift_seen_window(request_id - m_highest_request_seen);
        m_seen_window[0] |= 1;
        m_highest_request_seen = request_id;
        return true;
    }
    uint64_t age = m_highest_request_seen - request_id;
    if (age >= kSeenWindowBits) {
        ++m_counters.stale_requests;
        return false;
    }
    uint64_t& word = m_seen_window[age / 64];
    uint64_t bit = uint64_t(1) << (age % 64);
    if ((word & bit) != 0) {
        ++m_counters.duplicate_requests;
        return false;
    }
    word |= bit;
    return true;
}

// Ages every remembered id by `shift` (bit i of the window is highest - i).
void RpcEndpoint::shift_seen_window(uint64_t shift)
{
    if (shift >= kSeenWindowBits) {
        m_seen_window[0] = m_seen_window[1] = 0;
    } else if (shift >= 64) {
        m_seen_window[1] = m_seen_window[0] << (shift - 64);
        m_seen_window[0] = 0;
    } else if (shift > 0) {
        m_seen_window[1] = m_seen_window[1] << shift | m_seen_window[0] >> (64 - shift);
        m_seen_window[0] <<= shift;
    }
}

void RpcEndpoint::receive_request(const MessageHeader& header, Span<const uint8_t> payload, uint64_t now_ns)
{
    if (!accept_request_id(header.request_id))
        return;
    RpcExchange* exchange = nullptr;
    for (auto& candidate : m_exchanges) {
        if (!candidate.m_in_use) {
            exchange = &candidate;
            break;
        }
    }
    RpcHandler* handler = handler_for(header.opcode);
    if (exchange == nullptr || handler == nullptr) {
        // Answer from a stack exchange that is never stored.
        RpcExchange answer;
        answer.m_endpoint = this;
        answer.m_header = header;
        answer.m_in_use = true;
        answer.m_now_ns = now_ns;
        if (exchange == nullptr)
            ++m_counters.busy_replies;
        send_reply(answer, static_cast<int32_t>(exchange == nullptr ? Errno::BUSY : Errno::NOSYS), {});
        return;
    }
    VERIFY(payload.size() <= protocol::kMaxRequestPayloadSize);
    exchange->m_handler = handler;
    exchange->m_header = header;
    if (!payload.is_empty())
        memcpy(exchange->m_payload, payload.data(), payload.size());
    exchange->m_now_ns = now_ns;
    exchange->m_rdma_outstanding = 0;
    exchange->m_replied = false;
    exchange->m_in_use = true;
    ++exchange->m_generation;
    ++m_counters.requests_served;

    auto valid = handler->validate(*exchange);
    if (valid.is_error()) {
        exchange->reply_error(valid.error().code());
        return;
    }
    handler->perform(*exchange);
    if (exchange->m_in_use && !exchange->m_replied && exchange->m_rdma_outstanding == 0) {
        ++m_counters.missing_replies;
        exchange->reply_error(Errno::IO);
    }
}

void RpcEndpoint::send_reply(RpcExchange& exchange, int32_t status, Span<const uint8_t> payload)
{
    exchange.m_replied = true;
    if (status != 0)
        ++m_counters.error_replies;
    MessageHeader reply = protocol::reply_header(exchange.m_header, m_config.local_node, status);
    auto encoded = protocol::encode_message(reply, payload, { m_scratch, sizeof(m_scratch) });
    size_t size;
    if (encoded.is_error()) {
        // A handler's reply of the wrong shape: answer EIO rather than nothing.
        ++m_counters.reply_send_errors;
        reply.status = static_cast<int32_t>(Errno::IO);
        size = MUST(protocol::encode_message(reply, {}, { m_scratch, sizeof(m_scratch) }));
    } else {
        size = encoded.value();
    }
    if (size > m_transport.max_message_size() || m_transport.send({ m_scratch, size }, exchange.m_now_ns).is_error())
        ++m_counters.reply_send_errors;
    release_if_done(exchange);
}

void RpcEndpoint::release_if_done(RpcExchange& exchange)
{
    if (exchange.m_replied && exchange.m_rdma_outstanding == 0)
        exchange.m_in_use = false;
}

void RpcEndpoint::transport_rdma_completed(uint64_t work_id, const ErrorOr<void>& result, uint64_t now_ns)
{
    uint32_t slot = static_cast<uint32_t>(work_id & 0xFFFF'FFFF);
    uint32_t generation = static_cast<uint32_t>(work_id >> 32);
    if (result.is_error())
        ++m_counters.rdma_errors;
    if (slot >= kMaxServing)
        return;
    RpcExchange& exchange = m_exchanges[slot];
    if (!exchange.m_in_use || exchange.m_generation != generation || exchange.m_rdma_outstanding == 0)
        return;
    --exchange.m_rdma_outstanding;
    exchange.m_now_ns = now_ns;
    exchange.m_handler->rdma_completed(exchange, result);
    if (exchange.m_in_use && !exchange.m_replied && exchange.m_rdma_outstanding == 0) {
        ++m_counters.missing_replies;
        exchange.reply_error(Errno::IO);
        return;
    }
    release_if_done(exchange);
}

} // namespace tessera::rpc
