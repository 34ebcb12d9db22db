#pragma once
// rping's server side (rping.c rping_test_server; docs/wire/rdma-cm.md 8) on one
// connected RC QP, driven by its completions. Per ping:
//
//   descriptor #1 received -> RDMA READ its size bytes into the buffer
//   READ completes         -> SEND go-ahead #1 (16 zero bytes)
//   descriptor #2 received -> RDMA WRITE strlen + 1 bytes back to it
//   WRITE completes        -> SEND go-ahead #2; one ping done
//
// Exactly one receive is outstanding, reposted as soon as one completes
// (before any go-ahead, so the client's next SEND never meets an RNR NAK).
// The client ends the run by disconnecting; on_disconnected() judges it.
//
//   auto server = TRY(RpingServerSession::try_create(engine, pd, qp, {}));
//   TRY(server->start());                  // before the REP leaves
//   server->on_completion(wc);             // every completion of this QP
//   server->on_disconnected();             // the CM's Disconnected event
//   if (server->result().status == RpingStatus::Pass) ...
//
// No clock, no lock: the caller serializes (the engine's lock).

#include <kernel/lib/error_or.h>
#include <kernel/lib/own_ptr.h>
#include <net/rdma/lib/roce_engine.h>
#include <net/rdma/rping/lib/rping_buffer.h>
#include <net/rdma/rping/lib/rping_result.h>

namespace tessera::rdma::rping {

struct RpingServerOptions {
    // The READ sink's size (the server's -S): the largest client size served.
    uint32_t buffer_size { rping_max_size };
    // 0: any number of pings (at least one) passes; otherwise exactly this many.
    uint32_t expected_count { 0 };
    // 0: any client size up to buffer_size; otherwise exactly this one.
    uint32_t expected_size { 0 };
};

class RpingServerSession {
public:
    enum class State : uint8_t {
        Idle, // created, no receive posted
        WaitReadAdvert, // waiting for descriptor #1 (rping's RDMA_READ_ADV)
        Reading,
        WaitWriteAdvert, // go-ahead #1 sent, waiting for descriptor #2
        Writing,
        Finished, // result() is final
    };

    static ErrorOr<OwnPtr<RpingServerSession>> try_create(
        RoceEngine& engine, ProtectionDomain& pd, QueuePair& qp, const RpingServerOptions& options);

    // Posts the one receive. The QP may be in INIT, RTR or RTS.
    ErrorOr<void> start();
    void on_completion(const WorkCompletion& completion);
    // The connection is gone: PASS if it ended between pings (and the count
    // matches), FAIL otherwise.
    void on_disconnected();
    // Ends the run now with `reason` (the glue's timeouts, CM errors).
    void fail(const char* reason);

    State state() const { return m_state; }
    bool is_finished() const { return m_state == State::Finished; }
    const RpingResult& result() const { return m_result; }
    uint32_t qp_num() const { return m_qp.qp_num(); }
    // The READ sink / WRITE source. Observability; a test plants a corrupted
    // echo through it.
    Span<uint8_t> rdma_buffer() { return m_rdma->bytes(); }

private:
    RpingServerSession(QueuePair& qp, const RpingServerOptions& options)
        : m_qp(qp)
        , m_options(options)
    {
    }

    ErrorOr<void> post_receive();
    ErrorOr<void> post_go_ahead();
    void on_receive(const WorkCompletion& completion);
    void finish_with(RpingStatus status, const char* reason);
    void fail_completion(const WorkCompletion& completion);
    void fail_on_error(const ErrorOr<void>& result, const char* reason);

    QueuePair& m_qp;
    RpingServerOptions m_options;
    OwnPtr<RpingBuffer> m_receive; // descriptors arrive here
    OwnPtr<RpingBuffer> m_go_ahead; // 16 zero bytes, never written
    OwnPtr<RpingBuffer> m_rdma;
    State m_state { State::Idle };
    RpingResult m_result;
    uint32_t m_read_length { 0 };
};

} // namespace tessera::rdma::rping
