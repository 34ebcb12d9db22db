#pragma once
// What the RPC endpoint needs from a connection to one peer: the verbs of an
// RC queue pair, nothing more. A binding implements RpcTransport and reports
// to the RpcTransportSink the endpoint attached:
//
//   send()        post a SEND of at most max_message_size() bytes. The bytes
//                 are copied (into a registered send buffer) before it
//                 returns. Messages arrive in order, at most once.
//   rdma_write()  post an RDMA WRITE of registered local bytes into the
//                 peer's registered buffer; rdma_read() the reverse. Each
//                 finishes with exactly one transport_rdma_completed(work_id).
//   receive       the binding keeps receive buffers posted (2 x the window
//                 of max_message_size(): the peer's requests plus the
//                 replies to ours, so the window bounds RNR) and hands each
//                 completed RECV to transport_received(), reposting the
//                 buffer once that returns.
//   failure       a QP that goes to the error state (retries exhausted, a
//                 remote access error) calls transport_failed() once; later
//                 posts fail with NOTCONN.
//
// Ordering (the zero-copy rule): a SEND posted after an RDMA WRITE on the
// same QP is placed at the peer after the WRITE's data (IBA 9.5, RC
// ordering), so a reply posted right after the WRITE never overtakes the
// page. Transports here must keep that: loopback copies the data at post
// time, the simulated one sequences WRITE and SEND in one stream.
//
// Re-entrancy: no post ever calls the sink from inside itself; deliveries
// come from the binding's own poll/worker, so an endpoint may post from a
// completion callback.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>
#include <managers/protocol/lib/page_transfer.h>

namespace tessera::rpc {

using protocol::RemoteBuffer;

class RpcTransportSink {
public:
    virtual void transport_received(Span<const uint8_t> message, uint64_t now_ns) = 0;
    virtual void transport_rdma_completed(uint64_t work_id, const ErrorOr<void>& result, uint64_t now_ns) = 0;
    virtual void transport_failed(Errno reason, uint64_t now_ns) = 0;

protected:
    ~RpcTransportSink() = default;
};

class RpcTransport {
public:
    virtual ~RpcTransport() = default;

    // The endpoint attaches itself once; deliveries before that are dropped.
    virtual void attach(RpcTransportSink& sink) = 0;
    virtual size_t max_message_size() const = 0;
    virtual ErrorOr<void> send(Span<const uint8_t> message, uint64_t now_ns) = 0;

    // `lkey` names the local memory region on an RC QP; transports without
    // memory registration ignore it. The default: no RDMA (OPNOTSUPP is not
    // in our errno list yet, so NOSYS).
    virtual ErrorOr<void> rdma_write(
        uint64_t work_id, Span<const uint8_t> local, uint32_t lkey, RemoteBuffer remote, uint64_t now_ns);
    virtual ErrorOr<void> rdma_read(
        uint64_t work_id, RemoteBuffer remote, Span<uint8_t> local, uint32_t lkey, uint64_t now_ns);
};

} // namespace tessera::rpc
