#pragma once
// RdmaDevice: the kernel's RDMA device (rxe0), an RdmaNode
// (net/rdma/node/lib/rdma_node.h) on the primary IPv4 interface, behind one
// spinlock of rank Rdma. The CM lives inside the same node, so that one lock
// covers it too (no RdmaCm lock is taken: the CM is never called but with
// the Rdma lock held). Received RoCE packets arrive from UDP 4791 on the
// interface's receive thread; the node is polled from a WorkItem on the
// system work queue, queued by a Timer armed for next_deadline_ns() and
// after every post (the timer's interrupt-context callback only queues the
// work: the engine is never called from interrupt context).
//
// STABLE (rping and the RPC transport build on it): the declarations in this
// header and their meaning. Blocking calls (connect, disconnect, wait_cq)
// are for threads only; the others never sleep but spin on the Rdma lock,
// so they must not be called with a lock of rank NetStack or inner held.
// Callbacks run on the system work queue's thread with no lock held; they
// may call any non-blocking function here but must not block.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>
#include <kernel/locking/spinlock.h>
#include <kernel/sched/wait_queue.h>
#include <kernel/sched/work_item.h>
#include <kernel/time/clock.h>
#include <kernel/time/timer.h>
#include <net/inet/lib/udp_binding.h>
#include <net/rdma/node/lib/rdma_node.h>

namespace tessera {

class RdmaConnection;

struct RdmaConnectRequest {
    Ipv4Address peer {};
    uint16_t local_port { 0 }; // the listener's port
    uint16_t peer_port { 0 };
    uint8_t responder_resources { 0 }; // what the REQ offers, seen from our side
    uint8_t initiator_depth { 0 };
    Span<const uint8_t> private_data; // 56 bytes after the cma_hdr
};

struct RdmaListenCallbacks {
    // Fill accept.qp (PD, CQs) and return true to accept, false to reject
    // (REJ 28). Required.
    bool (*on_connect_request)(
        void* context, const RdmaConnectRequest& request, rdma::RdmaAcceptParams& accept) { nullptr };
    // The connection is established; the QP is RTS. The listener owns the
    // connection from here (disconnect() it when done). Required.
    void (*on_established)(void* context, RdmaConnection& connection) { nullptr };
    // Optional: the peer disconnected (or the DREQ exchange ended); the QP is
    // in ERR. The owner still calls disconnect() to release the connection.
    void (*on_disconnected)(void* context, RdmaConnection& connection) { nullptr };
};

class RdmaConnection {
public:
    enum class State : uint8_t { Connecting, Established, Disconnected, Failed };

    rdma::QueuePair& qp() const { return *m_qp; }
    Ipv4Address peer() const { return m_peer; }
    uint16_t local_port() const { return m_local_port; }
    uint16_t peer_port() const { return m_peer_port; }
    State state() const { return m_state.load(); }
    // The peer's private data from its REP (active) or REQ (passive).
    Span<const uint8_t> private_data() const { return Span<const uint8_t>(m_private_data, m_private_data_size); }

private:
    friend class RdmaDevice;

    rdma::cm::CmConnectionId m_id { 0 };
    rdma::QueuePair* m_qp { nullptr };
    Ipv4Address m_peer {};
    uint16_t m_local_port { 0 };
    uint16_t m_peer_port { 0 };
    kstd::atomic<State> m_state { State::Connecting };
    uint16_t m_reject_reason { 0 };
    bool m_timed_out { false };
    bool m_in_use { false };
    bool m_user_released { false };
    bool m_passive { false };
    const RdmaListenCallbacks* m_callbacks { nullptr };
    void* m_callback_context { nullptr };
    uint8_t m_private_data[rdma::cm::rep_private_data_size] {};
    uint16_t m_private_data_size { 0 };
};

class NetInterface;

class RdmaDevice {
public:
    // The device, or nullptr when the IPv4 stack is down (no tessera.ip, no
    // NIC). Created at the `late` init level, never freed.
    static RdmaDevice* the();

    // Runs f(RdmaNode&) under the Rdma lock, then polls the node (so WRs
    // posted in f go out). For verbs: alloc_pd, register_mr, create_cq (use
    // create_cq() below to get wait_cq support), post_send, post_recv.
    template<typename F>
    decltype(auto) with_node(F f);

    // A CQ whose completions wake wait_cq(). ENOMEM.
    ErrorOr<rdma::CompletionQueue*> create_cq(size_t capacity);
    ErrorOr<void> post_send(rdma::QueuePair& qp, const rdma::SendWr& wr);
    ErrorOr<void> post_recv(rdma::QueuePair& qp, const rdma::RecvWr& wr);
    // Non-blocking: moves up to entries.size() completions out.
    size_t poll_cq(rdma::CompletionQueue& cq, Span<rdma::WorkCompletion> entries);
    // Blocks until `cq` (made by create_cq()) has a completion, then polls
    // up to entries.size(); ETIMEDOUT at deadline_ns (uptime).
    ErrorOr<size_t> wait_cq(rdma::CompletionQueue& cq, Span<rdma::WorkCompletion> entries, uint64_t deadline_ns);

    // Passive side: REQs for `port` go to callbacks (which, and `context`,
    // must outlive stop_listening()). EADDRINUSE, ENOSPC.
    ErrorOr<void> listen(uint16_t port, const RdmaListenCallbacks& callbacks, void* context);
    void stop_listening(uint16_t port);

    // Active side, blocking: REQ, REP, RTU. ECONNREFUSED on a REJ (the reason
    // is logged), ETIMEDOUT when the CM gives up or at timeout_ns, or the
    // CM's error (EINVAL, ENOSPC, the QP's).
    // `reject_reason`, if given, receives the REJ's reason on ECONNREFUSED
    // (8: nobody listens on the port; 28: the listener refused).
    ErrorOr<RdmaConnection*> connect(Ipv4Address peer, uint16_t port, const rdma::RdmaConnectParams& params,
        uint64_t timeout_ns, uint16_t* reject_reason = nullptr);
    // connect() again, a second apart, while it is refused (REJ) or times
    // out, until `give_up_deadline`: a peer that boots alongside is not
    // listening yet. Any other error ends it at once. `attempts`, if given,
    // receives how many connects were made; the result is the last one's.
    ErrorOr<RdmaConnection*> connect_retrying(Ipv4Address peer, uint16_t port, const rdma::RdmaConnectParams& params,
        uint64_t attempt_timeout_ns, uint64_t give_up_deadline, uint16_t* reject_reason = nullptr,
        uint32_t* attempts = nullptr);
    // DREQ/DREP (blocking up to timeout_ns), then releases the connection:
    // the pointer is dead after this returns, whatever it returns. The QP
    // stays in ERR until the CM's timewait ends.
    ErrorOr<void> disconnect(RdmaConnection& connection, uint64_t timeout_ns);

    // The shell's `rdma`: engine and CM counters, drops by reason.
    void print_status();

    // Internal (the init function and the UDP handler); public for them.
    static ErrorOr<void> bring_up(NetInterface& interface);
    RdmaDevice(NetInterface& interface);

private:
    static constexpr size_t max_connections = 32;
    static constexpr size_t max_listeners = 8;
    struct Listener {
        uint16_t port { 0 };
        const RdmaListenCallbacks* callbacks { nullptr };
        void* context { nullptr };
    };
    class IpSink final : public rdma::PacketSink {
    public:
        explicit IpSink(NetInterface& interface)
            : m_interface(interface)
        {
        }
        ErrorOr<void> transmit(Span<const uint8_t> ip_packet) override;

    private:
        NetInterface& m_interface;
    };

    static void on_udp(void* context, Span<const uint8_t> ip_packet, const UdpReceiveInfo& info);
    static void on_timer(void* context);
    static void on_work(void* context);
    static void on_completion(rdma::CompletionQueue& cq, void* context);
    // Under the lock, after the node ran: polls it (what was posted goes
    // out), arms the timer for its deadline and queues the worker if it is
    // due now or has events to hand out.
    void poll_and_schedule_locked() TA_REQUIRES(m_lock);
    void schedule_locked() TA_REQUIRES(m_lock);
    void run_worker();
    void handle_event(const rdma::RdmaEvent& event);
    RdmaConnection* allocate_connection();
    RdmaConnection* find_connection(rdma::cm::CmConnectionId id);
    void release_connection(RdmaConnection& connection);
    void bump()
    {
        m_waiters.change_and_wake_all([&] { m_generation.fetch_add(1); });
    }

    NetInterface& m_interface;
    IpSink m_sink;
    Spinlock<LockRank::Rdma> m_lock;
    OwnPtr<rdma::RdmaNode> m_node TA_GUARDED_BY(m_lock);
    // Guarded by m_lock as well (the worker and the API change them).
    RdmaConnection m_connections[max_connections];
    Listener m_listeners[max_listeners];
    Timer m_timer;
    WorkItem m_work;
    WaitQueue m_waiters;
    // Bumped (and waiters woken) on every completion and connection change.
    kstd::atomic<uint64_t> m_generation { 0 };
};

template<typename F>
decltype(auto) RdmaDevice::with_node(F f)
{
    SpinlockGuard guard(m_lock);
    if constexpr (kstd::is_same_v<decltype(f(*m_node)), void>) {
        f(*m_node);
        poll_and_schedule_locked();
    } else {
        auto result = f(*m_node);
        poll_and_schedule_locked();
        return result;
    }
}

} // namespace tessera
