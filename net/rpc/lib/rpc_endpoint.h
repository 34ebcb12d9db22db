#pragma once
// RpcEndpoint: request/response with one peer over one RpcTransport (an RC
// queue pair, loopback, or the host simulation). Both roles at once: it
// issues requests (call) and serves the peer's (a handler table by opcode).
// Event-driven: the transport's deliveries and poll(now_ns) drive it, time
// is passed in, nothing inside sleeps, locks or reads a clock; the kernel
// glue wraps it in one lock of rank Rpc and drives it from a worker and a
// timer armed for next_deadline_ns().
//
//   RpcEndpoint endpoint({ .local_node = 1, .peer_node = 2 }, transport, &detector);
//   MUST(endpoint.register_handler(Opcode::X2X_PING, ping_handler));
//   uint64_t id = TRY(endpoint.call(Opcode::X2X_PING, bytes_of(ping), completion, now));
//
// Caller side: request ids count up from 1; at most `window` requests are in
// flight (call() says AGAIN beyond it); each has a deadline, and a timeout
// completes it with ETIMEDOUT and reports the peer to the failure hook. A
// reply that comes after its request timed out, or twice, is dropped and
// counted. Once the transport fails or fail_peer() is called, every pending
// request fails and new ones fail at once.
//
// Server side: a request is decoded, checked against the peer, executed at
// most once (a window of recent ids drops duplicates a lossy transport made),
// validated by its handler and then performed. A request with a readable
// header but a bad field, or no handler, is answered with the errno.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>
#include <managers/protocol/lib/message_header.h>
#include <managers/protocol/lib/opcode.h>
#include <net/rpc/lib/rpc_call.h>
#include <net/rpc/lib/rpc_exchange.h>
#include <net/rpc/lib/rpc_handler.h>
#include <net/rpc/lib/rpc_transport.h>

namespace tessera::rpc {

struct RpcEndpointConfig {
    uint32_t local_node { 0 };
    uint32_t peer_node { 0 };
    uint64_t default_timeout_ns { 10'000'000 };
    uint32_t window { 16 }; // requests in flight, 1..kMaxWindow
};

class RpcEndpoint final : public RpcTransportSink {
public:
    static constexpr uint32_t kMaxWindow = 64;
    static constexpr uint32_t kMaxServing = 64; // requests of the peer's served at once
    static constexpr uint32_t kMaxHandlers = 32;

    // The config is clamped: window to 1..kMaxWindow, a zero timeout to 10 ms.
    RpcEndpoint(RpcEndpointConfig config, RpcTransport& transport, RpcFailureHook* failure_hook);
    RpcEndpoint(const RpcEndpoint&) = delete;
    RpcEndpoint& operator=(const RpcEndpoint&) = delete;

    // NOSYS for an opcode outside the protocol, EEXIST for a second handler,
    // NOSPC when the table is full.
    ErrorOr<void> register_handler(protocol::Opcode opcode, RpcHandler& handler);

    // Sends a request; returns its id. `timeout_ns` 0 means the default.
    // Errors (the completion then never runs): the peer's failure reason
    // once it failed, AGAIN when the window is full, MSGSIZE beyond the
    // transport's limit, any protocol::encode_message() error (a payload of
    // the wrong shape), or the transport's send error.
    ErrorOr<uint64_t> call(protocol::Opcode opcode, Span<const uint8_t> payload, RpcCompletion& completion,
        uint64_t now_ns, uint64_t timeout_ns = 0);

    // Expires requests whose deadline is <= now_ns.
    void poll(uint64_t now_ns);
    // The earliest deadline in flight, or UINT64_MAX.
    uint64_t next_deadline_ns() const;

    // The failure detector's verdict: every pending request completes with
    // `reason`, new calls fail with it, requests of the peer's are dropped.
    void fail_peer(Errno reason, uint64_t now_ns);
    bool peer_failed() const { return m_peer_failed; }

    uint32_t in_flight() const { return m_in_flight; }
    uint32_t serving() const;
    const RpcCounters& counters() const { return m_counters; }
    const RpcEndpointConfig& config() const { return m_config; }

    // RpcTransportSink.
    void transport_received(Span<const uint8_t> message, uint64_t now_ns) override;
    void transport_rdma_completed(uint64_t work_id, const ErrorOr<void>& result, uint64_t now_ns) override;
    void transport_failed(Errno reason, uint64_t now_ns) override;

private:
    friend class RpcExchange;

    struct PendingCall {
        uint64_t request_id { 0 };
        uint64_t deadline_ns { 0 };
        RpcCompletion* completion { nullptr };
        protocol::Opcode opcode { protocol::Opcode::X2X_PING };
        bool in_use { false };
    };

    struct HandlerEntry {
        protocol::Opcode opcode;
        RpcHandler* handler;
    };

    void receive_reply(const protocol::MessageHeader& header, Span<const uint8_t> payload);
    void receive_request(const protocol::MessageHeader& header, Span<const uint8_t> payload, uint64_t now_ns);
    void answer_malformed(Span<const uint8_t> message, Errno error, uint64_t now_ns);
    void classify_stray_reply(uint64_t request_id);
    bool accept_request_id(uint64_t request_id);
    void shift_seen_window(uint64_t shift);
    void finish(PendingCall& call, int32_t status, RpcOrigin origin, Span<const uint8_t> payload);
    void fail_everything(Errno reason, uint64_t now_ns);
    RpcHandler* handler_for(uint16_t opcode) const;

    // The exchange side (RpcExchange forwards here).
    void send_reply(RpcExchange& exchange, int32_t status, Span<const uint8_t> payload);
    void release_if_done(RpcExchange& exchange);

    RpcEndpointConfig m_config;
    RpcTransport& m_transport;
    RpcFailureHook* m_failure_hook;
    RpcCounters m_counters;

    PendingCall m_calls[kMaxWindow];
    uint32_t m_in_flight { 0 };
    uint64_t m_next_request_id { 1 };
    // The last ids that timed out, to tell a late reply from a duplicate.
    uint64_t m_timed_out[kMaxWindow] {};
    uint32_t m_timed_out_next { 0 };

    RpcExchange m_exchanges[kMaxServing];
    HandlerEntry m_handlers[kMaxHandlers] {};
    uint32_t m_handler_count { 0 };
    // The peer's request ids seen: bit i of the window is highest - i.
    uint64_t m_highest_request_seen { 0 };
    uint64_t m_seen_window[2] {};

    bool m_peer_failed { false };
    Errno m_failure_reason { Errno::NOTCONN };
    // Every message we send is built here: the endpoint runs under one lock.
    uint8_t m_scratch[protocol::kMaxMessageSize];
};

} // namespace tessera::rpc
