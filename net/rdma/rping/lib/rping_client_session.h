#pragma once
// rping's client side (rping.c rping_test_client; docs/wire/rdma-cm.md 8) on one
// connected RC QP, driven by its completions. Per ping n:
//
//   fill start_buf with ping n's pattern, SEND {start_buf va, rkey, size}
//   go-ahead #1 received  -> SEND {rdma_buf va, rkey, size}
//   go-ahead #2 received  -> with -V, compare rdma_buf with start_buf
//
// One receive is outstanding, reposted before each reaction. After `count`
// pings the result is PASS; the caller then disconnects. The client never
// waits for its own SEND completions, only for the server's SENDs.
//
//   auto client = TRY(RpingClientSession::try_create(engine, pd, qp, { .count = 100, .size = 64 }));
//   TRY(client->prepare());     // before connecting: the receive is posted
//   TRY(client->start());       // Established: the first descriptor goes out
//   client->on_completion(wc);  // every completion of this QP
//
// No clock, no lock: the caller serializes (the engine's lock).

#include <kernel/lib/error_or.h>
#include <kernel/lib/own_ptr.h>
#include <net/rdma/lib/roce_engine.h>
#include <net/rdma/rping/lib/rping_buffer.h>
#include <net/rdma/rping/lib/rping_result.h>

namespace tessera::rdma::rping {

struct RpingClientOptions {
    uint32_t count { 100 }; // -C, at least 1 (rping's "for ever" is not offered)
    uint32_t size { 64 }; // -S, rping_min_size..rping_max_size
    bool verify { true }; // -V
};

class RpingClientSession {
public:
    enum class State : uint8_t {
        Idle, // created
        Prepared, // the receive is posted
        WaitGoAhead1, // descriptor #1 sent: the server READs
        WaitGoAhead2, // descriptor #2 sent: the server WRITEs
        Finished, // result() is final
    };

    static ErrorOr<OwnPtr<RpingClientSession>> try_create(
        RoceEngine& engine, ProtectionDomain& pd, QueuePair& qp, const RpingClientOptions& options);

    // Posts the one receive; the QP may be in INIT, RTR or RTS.
    ErrorOr<void> prepare();
    // Sends ping 0's descriptor (prepares first if needed); needs RTS.
    ErrorOr<void> start();
    void on_completion(const WorkCompletion& completion);
    // The connection went away: FAIL unless the run already passed.
    void on_disconnected();
    void fail(const char* reason);

    State state() const { return m_state; }
    bool is_finished() const { return m_state == State::Finished; }
    const RpingResult& result() const { return m_result; }
    uint32_t qp_num() const { return m_qp.qp_num(); }
    // Observability: what the server READs, and where it WRITEs back.
    Span<const uint8_t> start_buffer() const { return m_start->bytes(); }
    Span<const uint8_t> rdma_buffer() const { return m_rdma->bytes(); }

private:
    RpingClientSession(QueuePair& qp, const RpingClientOptions& options)
        : m_qp(qp)
        , m_options(options)
    {
    }

    ErrorOr<void> post_receive();
    ErrorOr<void> send_descriptor(size_t slot, const RpingBuffer& buffer);
    ErrorOr<void> begin_ping();
    void on_receive(const WorkCompletion& completion);
    void finish_with(RpingStatus status, const char* reason);
    void fail_on_error(const ErrorOr<void>& result, const char* reason);

    QueuePair& m_qp;
    RpingClientOptions m_options;
    OwnPtr<RpingBuffer> m_receive; // go-aheads arrive here
    // Two 16-byte slots, one per descriptor kind, so a SEND still awaiting
    // its ACK (and perhaps a retransmission) is never rewritten under it.
    OwnPtr<RpingBuffer> m_send;
    OwnPtr<RpingBuffer> m_start; // the READ source
    OwnPtr<RpingBuffer> m_rdma; // the WRITE target
    State m_state { State::Idle };
    RpingResult m_result;
};

} // namespace tessera::rdma::rping
