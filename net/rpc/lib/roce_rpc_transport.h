#pragma once
// RoceRpcTransport: the RpcTransport of one RC queue pair of a RoceEngine
// (net/rdma/lib), the binding net/rpc/README.md describes under
// "Transports". The QP is connected by someone else (the CM in the kernel,
// by hand in host tests); this class only moves the endpoint's messages and
// RDMA operations over it.
//
//   auto transport = TRY(RoceRpcTransport::try_create(engine, *pd, *qp, *cq, *cq, { .window = 16 }));
//   RpcEndpoint endpoint(config, *transport, &hook);
//   ...after engine.receive() / engine.poll():
//   transport->drain_completions(now_ns);
//
// Buffers are registered once, in one memory region: 2 x window receive
// buffers of kMaxMessageSize, kept posted (the peer's requests plus the
// replies to ours, so the window bounds RNR), and a pool of send buffers a
// message is copied into; a SEND's completion returns its buffer.
//
// wr_id: RDMA WRITE/READ carry the exchange's work id (generation << 32 |
// slot, slot < RpcEndpoint::kMaxServing); SENDs and RECVs carry a tag in the
// low 32 bits no work id can have (see the .cpp), so even a flushed
// completion is told apart by its wr_id alone, as libibverbs requires (a
// failed completion's opcode is undefined there).
//
// Failure: the first completion with an error status (RETRY_EXC_ERR when the
// peer is gone, a remote access error, a flush) or the QP found in ERR
// makes the transport failed: transport_failed(reason) is called once, later
// posts fail with NOTCONN, flushed RDMA operations still complete (with an
// error) and flushed receive buffers are not reposted.
//
// Re-entrancy: no post calls the sink; only drain_completions() does, so
// the endpoint may post from its callbacks. The caller serializes (the
// kernel glue holds the Rpc lock, then the engine's Rdma lock inside).
//
// Ownership: the QP and its CQs outlive the transport, and the QP is
// destroyed (or in ERR and drained) before the transport goes, because its
// posted receives point into the transport's buffers. The CQs must serve
// this QP only (send_cq may equal recv_cq).

#include <kernel/lib/error_or.h>
#include <kernel/lib/own_ptr.h>
#include <kernel/lib/vector.h>
#include <net/rdma/lib/roce_engine.h>
#include <net/rpc/lib/rpc_transport.h>

namespace tessera::rpc {

struct RoceRpcTransportConfig {
    uint32_t window { 16 }; // the endpoint's window (RpcEndpointConfig::window)
    uint32_t send_buffers { 0 }; // 0: 4 x window (a buffer is held until its SEND is acknowledged)
};

struct RoceRpcTransportCounters {
    uint64_t messages_sent { 0 };
    uint64_t messages_received { 0 };
    uint64_t rdma_posted { 0 };
    uint64_t rdma_completed { 0 };
    uint64_t rdma_failed { 0 };
    uint64_t send_buffer_exhausted { 0 }; // send() said AGAIN
    uint64_t error_completions { 0 };
    uint64_t stray_completions { 0 }; // a wr_id we never posted
};

class RoceRpcTransport final : public RpcTransport {
public:
    // The QP must be RC and not in RESET (INIT, RTR or RTS): the receive
    // buffers are posted here, before the peer can send. INVAL otherwise;
    // NOMEM when the buffers or their registration do not fit.
    static ErrorOr<OwnPtr<RoceRpcTransport>> try_create(rdma::RoceEngine& engine, rdma::ProtectionDomain& pd,
        rdma::QueuePair& qp, rdma::CompletionQueue& send_cq, rdma::CompletionQueue& recv_cq,
        RoceRpcTransportConfig config);
    ~RoceRpcTransport() override;
    RoceRpcTransport(const RoceRpcTransport&) = delete;
    RoceRpcTransport& operator=(const RoceRpcTransport&) = delete;

    // RpcTransport.
    void attach(RpcTransportSink& sink) override { m_sink = &sink; }
    size_t max_message_size() const override;
    ErrorOr<void> send(Span<const uint8_t> message, uint64_t now_ns) override;
    // `local` must lie inside the memory region named by `lkey` (of this
    // engine and PD); its address on the wire is that region's VA for it.
    ErrorOr<void> rdma_write(
        uint64_t work_id, Span<const uint8_t> local, uint32_t lkey, RemoteBuffer remote, uint64_t now_ns) override;
    ErrorOr<void> rdma_read(
        uint64_t work_id, RemoteBuffer remote, Span<uint8_t> local, uint32_t lkey, uint64_t now_ns) override;

    // Moves every completion of the QP's CQs to the sink (and reposts
    // receive buffers); notices a QP gone to ERR. The glue calls it after
    // engine.receive() / engine.poll(). Returns the completions handled.
    size_t drain_completions(uint64_t now_ns);

    bool failed() const { return m_failed; }
    Errno failure_reason() const { return m_failure_reason; }
    const RoceRpcTransportCounters& counters() const { return m_counters; }
    uint32_t receive_buffers() const { return m_receive_count; }
    uint32_t send_buffers() const { return m_send_count; }
    uint32_t send_buffers_free() const { return m_free_count; }
    uint32_t rdma_outstanding() const { return m_rdma_outstanding; }
    rdma::QueuePair& queue_pair() const { return m_qp; }

private:
    RoceRpcTransport(rdma::RoceEngine& engine, rdma::ProtectionDomain& pd, rdma::QueuePair& qp,
        rdma::CompletionQueue& send_cq, rdma::CompletionQueue& recv_cq, uint32_t receive_count, uint32_t send_count);

    ErrorOr<void> set_up();
    uint8_t* buffer(uint32_t index) { return m_memory.data() + static_cast<size_t>(index) * kBufferSize; }
    uint64_t buffer_va(uint32_t index) const;
    ErrorOr<void> post_receive(uint32_t index);
    ErrorOr<rdma::Sge> local_sge(Span<const uint8_t> local, uint32_t lkey) const;
    ErrorOr<void> post_rdma(uint64_t work_id, rdma::WrOpcode opcode, rdma::Sge sge, RemoteBuffer remote);
    void drain(rdma::CompletionQueue& cq, uint64_t now_ns, size_t& handled);
    void handle(const rdma::WorkCompletion& completion, uint64_t now_ns);
    void fail(Errno reason, uint64_t now_ns);

    static constexpr size_t kBufferSize = 4128; // protocol::kMaxMessageSize, checked in the .cpp

    rdma::RoceEngine& m_engine;
    rdma::ProtectionDomain& m_pd;
    rdma::QueuePair& m_qp;
    rdma::CompletionQueue& m_send_cq;
    rdma::CompletionQueue& m_recv_cq;
    RpcTransportSink* m_sink { nullptr };

    uint32_t m_receive_count;
    uint32_t m_send_count;
    // Receive buffers first, then send buffers, one registration.
    Vector<uint8_t> m_memory;
    rdma::MemoryRegion* m_region { nullptr };
    Vector<uint32_t> m_free_sends; // a stack of free send buffer indices, m_free_count deep
    uint32_t m_free_count { 0 };
    uint32_t m_rdma_outstanding { 0 };

    bool m_failed { false };
    Errno m_failure_reason { Errno::NOTCONN };
    RoceRpcTransportCounters m_counters;
};

} // namespace tessera::rpc
