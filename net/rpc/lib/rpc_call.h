#pragma once
// The caller's side of one request: its result, the completion that
// receives it, and the failure-detector hook the endpoint reports to.
//
// Contract: call() either fails (and the completion is never run) or
// returns a request id, and then the completion runs exactly once, from a
// later transport delivery or poll(), never from inside call().

#include <kernel/lib/error.h>
#include <kernel/lib/span.h>

namespace tessera::rpc {

// Where a failed request's status came from.
enum class RpcOrigin : uint8_t {
    Peer, // the reply's status (0 on success)
    Timeout, // no reply by the deadline: ETIMEDOUT
    PeerFailed, // the connection or the peer failed first
    Protocol, // the reply did not fit the request: EPROTO
};

struct RpcResult {
    uint64_t request_id { 0 };
    int32_t status { 0 }; // 0, or a Linux errno
    RpcOrigin origin { RpcOrigin::Peer };
    Span<const uint8_t> payload; // a successful reply's payload, valid during the callback only

    bool ok() const { return status == 0; }
    Errno error() const { return static_cast<Errno>(status); }
};

class RpcCompletion {
public:
    virtual void rpc_completed(const RpcResult& result) = 0;

protected:
    ~RpcCompletion() = default;
};

// The failure detector's ear: every request timeout (reason ETIMEDOUT) and a
// transport failure (the transport's reason) are reported with the peer. The
// detector decides; RpcEndpoint::fail_peer() carries out its verdict.
class RpcFailureHook {
public:
    virtual void rpc_peer_suspected(uint32_t peer_node, Errno reason, uint64_t now_ns) = 0;

protected:
    ~RpcFailureHook() = default;
};

struct RpcCounters {
    // Caller side.
    uint64_t requests_sent { 0 };
    uint64_t replies_matched { 0 };
    uint64_t timeouts { 0 };
    uint64_t late_replies { 0 }; // for a request that had already timed out
    uint64_t duplicate_replies { 0 }; // for a request already answered
    uint64_t unknown_replies { 0 }; // for an id never issued
    uint64_t protocol_errors { 0 }; // reply opcode differs from the request's
    uint64_t failed_by_peer_failure { 0 };
    // Server side.
    uint64_t requests_served { 0 };
    uint64_t error_replies { 0 };
    uint64_t duplicate_requests { 0 }; // dropped: executed once already
    uint64_t stale_requests { 0 }; // dropped: older than the duplicate window
    uint64_t busy_replies { 0 }; // no free exchange: EBUSY
    uint64_t missing_replies { 0 }; // a handler that neither replied nor posted RDMA
    uint64_t reply_send_errors { 0 };
    uint64_t rdma_errors { 0 };
    // Both.
    uint64_t malformed_messages { 0 };
    uint64_t wrong_source { 0 }; // source_node is not the peer
};

} // namespace tessera::rpc
