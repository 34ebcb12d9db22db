// The kernel's RPC over RoCE (`tessera.peers=`): one RC QP per peer pair,
// connected through the RDMA CM on rpc_port (the node with the lower IPv4
// address connects, the other listens), an RpcEndpoint with a
// RoceRpcTransport on each, the ping handlers registered. Node ids are the
// addresses' last octets. With `tessera.rpc.selftest=N` every peer is
// pinged N times and one `rpc: PASS ...` / `rpc: FAIL ...` line printed.
//
// Locking: the endpoints and transports live under one lock of rank Rpc;
// every call into them also holds the device's Rdma lock (taken inside, by
// with_node), because the transport posts straight to the QP. Driving: the
// service thread pumps every millisecond (drain completions, expire
// deadlines) while it runs; this is the simplest correct driver, a
// completion-driven work item is left to do (see net/rpc/README.md).

#include <kernel/boot/boot.h>
#include <kernel/console/console.h>
#include <kernel/init/init.h>
#include <kernel/lib/own_ptr.h>
#include <kernel/locking/spinlock.h>
#include <kernel/sched/thread.h>
#include <kernel/time/clock.h>
#include <managers/protocol/lib/message_codec.h>
#include <managers/protocol/lib/ping.h>
#include <net/rdma/rdma_device.h>
#include <net/rpc/lib/roce_rpc_transport.h>
#include <net/rpc/lib/rpc_endpoint.h>

namespace tessera {

namespace {

using namespace tessera::rdma;
using namespace tessera::rpc;
using namespace tessera::protocol;

// The RDMA CM port (TCP port space) every node listens on for RPC.
constexpr uint16_t rpc_port = 7471;
constexpr uint32_t rpc_window = 8;
constexpr uint64_t rpc_timeout_ns = 10 * ns_per_second;

class PingHandler final : public RpcHandler {
public:
    ErrorOr<void> validate(const RpcExchange& exchange) override
    {
        TRY(payload_as<PingRequest>(exchange.payload()));
        return {};
    }
    void perform(RpcExchange& exchange) override
    {
        auto request = MUST(payload_as<PingRequest>(exchange.payload()));
        PingReply reply { static_cast<uint32_t>(request.sequence) };
        exchange.reply(bytes_of(reply));
    }
};

struct Peer;

class PeerHook final : public RpcFailureHook, public RpcCompletion {
public:
    void rpc_peer_suspected(uint32_t, Errno reason, uint64_t) override
    {
        last_failure = reason;
        suspected = true;
    }
    void rpc_completed(const RpcResult& result) override
    {
        ++completed;
        if (result.ok())
            ++succeeded;
        else
            last_error = result.error();
    }
    Errno last_failure { Errno::NOTCONN };
    Errno last_error { Errno::NOTCONN };
    uint32_t completed { 0 };
    uint32_t succeeded { 0 };
    bool suspected { false };
};

struct Peer {
    Ipv4Address ip {};
    ProtectionDomain* pd { nullptr };
    CompletionQueue* cq { nullptr };
    RdmaConnection* connection { nullptr };
    OwnPtr<RoceRpcTransport> transport;
    OwnPtr<RpcEndpoint> endpoint;
    PeerHook hook;
    uint32_t issued { 0 };
    bool failed_setup { false };
};

Spinlock<LockRank::Rpc> s_lock;
Peer s_peers[max_peers];
size_t s_peer_count = 0;
PingHandler s_ping;
kstd::atomic<RdmaDevice*> s_device { nullptr };
kstd::atomic<uint32_t> s_calls { 0 };

uint32_t node_of(Ipv4Address ip) { return ip.octets[3]; }
bool lower(Ipv4Address a, Ipv4Address b)
{
    for (int i = 0; i < 4; ++i)
        if (a.octets[i] != b.octets[i])
            return a.octets[i] < b.octets[i];
    return false;
}

Peer* find_peer(Ipv4Address ip)
{
    for (size_t i = 0; i < s_peer_count; ++i)
        if (s_peers[i].ip == ip)
            return &s_peers[i];
    return nullptr;
}

QpInitAttr qp_attr(Peer& peer)
{
    return { .qp_type = QpType::Rc,
        .pd = peer.pd,
        .send_cq = peer.cq,
        .recv_cq = peer.cq,
        .max_send_wr = 8 * rpc_window,
        .max_recv_wr = 4 * rpc_window };
}

ErrorOr<void> create_resources(Peer& peer)
{
    peer.cq = TRY(s_device.load()->create_cq(16 * rpc_window));
    peer.pd = TRY(s_device.load()->with_node([&](RdmaNode& node) { return node.engine().alloc_pd(); }));
    return {};
}

// NOLINTBEGIN(clang-analyzer-cplusplus.NewDeleteLeaks): a TRY false positive (OwnPtr owns on every path).
// The QP is RTS: its endpoint and transport.
void attach(Peer& peer, RdmaConnection& connection)
{
    SpinlockGuard guard(s_lock);
    auto made = s_device.load()->with_node([&](RdmaNode& node) -> ErrorOr<void> {
        peer.transport = TRY(RoceRpcTransport::try_create(
            node.engine(), *peer.pd, connection.qp(), *peer.cq, *peer.cq, { .window = rpc_window }));
        RpcEndpointConfig config { .local_node = node_of(node_config().ip),
            .peer_node = node_of(peer.ip),
            .default_timeout_ns = rpc_timeout_ns,
            .window = rpc_window };
        peer.endpoint = TRY(adopt_own_if_nonnull(new (kstd::nothrow) RpcEndpoint(config, *peer.transport, &peer.hook)));
        peer.transport->attach(*peer.endpoint);
        TRY(peer.endpoint->register_handler(protocol::Opcode::X2X_PING, s_ping));
        return {};
    });
    if (made.is_error()) {
        peer.failed_setup = true;
        return;
    }
    peer.connection = &connection;
}

// NOLINTEND(clang-analyzer-cplusplus.NewDeleteLeaks)

bool on_connect_request(void*, const RdmaConnectRequest& request, RdmaAcceptParams& accept)
{
    Peer* peer = find_peer(request.peer);
    if (peer == nullptr || peer->pd == nullptr || peer->connection != nullptr)
        return false;
    accept.qp = qp_attr(*peer);
    return true;
}

void on_established(void*, RdmaConnection& connection)
{
    if (Peer* peer = find_peer(connection.peer()); peer != nullptr && peer->connection == nullptr)
        attach(*peer, connection);
}

const RdmaListenCallbacks s_callbacks { .on_connect_request = on_connect_request, .on_established = on_established };

// Completions to the endpoints, deadlines expired; selftest pings topped up.
void pump(uint32_t calls_per_peer)
{
    SpinlockGuard guard(s_lock);
    s_device.load()->with_node([&](RdmaNode&) {
        uint64_t now = uptime_ns();
        for (size_t i = 0; i < s_peer_count; ++i) {
            Peer& peer = s_peers[i];
            if (!peer.endpoint)
                continue;
            peer.transport->drain_completions(now);
            peer.endpoint->poll(now);
            // The simplest failure detector: one timeout and the peer is
            // dead (the QP's own retry budget may be unbounded, rnr/retry 7).
            if (peer.hook.suspected && !peer.endpoint->peer_failed())
                peer.endpoint->fail_peer(Errno::HOSTDOWN, now);
            while (peer.issued < calls_per_peer && peer.endpoint->in_flight() < rpc_window
                && !peer.endpoint->peer_failed()) {
                PingRequest request {};
                request.sequence = peer.issued;
                auto id = peer.endpoint->call(protocol::Opcode::X2X_PING, bytes_of(request), peer.hook, now);
                if (id.is_error()) {
                    if (id.error().code() == Errno::AGAIN)
                        break;
                    peer.hook.last_error = id.error().code();
                    ++peer.hook.completed; // counted as a failed call
                }
                ++peer.issued;
            }
        }
    });
}

void service_thread(void*)
{
    RdmaDevice* device = nullptr;
    for (int i = 0; i < 100 && (device = RdmaDevice::the()) == nullptr; ++i)
        sleep_ms(100);
    uint32_t calls = node_config().rpc_selftest_calls;
    if (device == nullptr) {
        console_print("rpc: FAIL no RDMA device (is tessera.ip set?)\n");
        return;
    }
    s_device.store(device);
    for (size_t i = 0; i < s_peer_count; ++i) {
        if (create_resources(s_peers[i]).is_error()) {
            console_print("rpc: FAIL no resources\n");
            return;
        }
    }
    if (auto listening = s_device.load()->listen(rpc_port, s_callbacks, nullptr); listening.is_error()) {
        console_print("rpc: FAIL listen on %u: %s\n", rpc_port, errno_name(listening.error().code()));
        return;
    }
    // The lower address connects; peers boot alongside, so retry a while.
    Ipv4Address self = node_config().ip;
    uint64_t give_up = deadline_after_ns(60 * ns_per_second);
    for (size_t i = 0; i < s_peer_count; ++i) {
        Peer& peer = s_peers[i];
        if (!lower(self, peer.ip))
            continue;
        while (uptime_ns() < give_up) {
            RdmaConnectParams params;
            params.qp = qp_attr(peer);
            auto connected = s_device.load()->connect(peer.ip, rpc_port, params, 10 * ns_per_second);
            if (!connected.is_error()) {
                attach(peer, *connected.value());
                break;
            }
            sleep_ms(500);
        }
    }
    if (calls == 0)
        return; // serving only: the pump thread goes on
    // Every connection made (or given up on), passive ones too; then a
    // grace period, because the passive side posts its receive buffers only
    // once the CM reports the connection established (an earlier SEND meets
    // RNR NAKs). The pings go out from the pump.
    for (uint64_t wait_until = deadline_after_ns(60 * ns_per_second); uptime_ns() < wait_until; sleep_ms(10)) {
        SpinlockGuard guard(s_lock);
        bool all = true;
        for (size_t i = 0; i < s_peer_count; ++i)
            all &= s_peers[i].endpoint.ptr() != nullptr;
        if (all)
            break;
    }
    sleep_ms(500);
    s_calls.store(calls);
    uint64_t end = deadline_after_ns(120 * ns_per_second);
    for (;;) {
        bool done = true;
        {
            SpinlockGuard guard(s_lock);
            for (size_t i = 0; i < s_peer_count; ++i) {
                Peer& peer = s_peers[i];
                done &= peer.endpoint.ptr() != nullptr
                    && (peer.hook.completed >= calls
                        || (peer.endpoint->peer_failed() && peer.endpoint->in_flight() == 0));
            }
        }
        if (done || uptime_ns() > end)
            break;
        sleep_ms(10);
    }
    uint32_t total = 0;
    bool pass = true;
    SpinlockGuard guard(s_lock);
    for (size_t i = 0; i < s_peer_count; ++i) {
        Peer& peer = s_peers[i];
        total += peer.hook.succeeded;
        if (peer.hook.succeeded != calls) {
            pass = false;
            auto const& ip = peer.ip.octets;
            console_print("rpc: FAIL peer=%u.%u.%u.%u ok=%u of %u: %s\n", ip[0], ip[1], ip[2], ip[3],
                peer.hook.succeeded, calls,
                peer.endpoint ? errno_name(peer.endpoint->peer_failed() ? peer.hook.last_failure : peer.hook.last_error)
                              : "not connected");
        }
    }
    if (pass)
        console_print("rpc: PASS peers=%zu calls=%u\n", s_peer_count, total);
}

// Drives every endpoint: completions, deadlines, selftest pings.
void pump_thread(void*)
{
    while (s_device == nullptr)
        sleep_ms(10);
    for (;;) {
        pump(s_calls.load());
        sleep_ms(1);
    }
}

ErrorOr<void> rpc_service_init()
{
    const NodeConfig& config = node_config();
    if (config.peer_count == 0)
        return {};
    for (size_t i = 0; i < config.peer_count; ++i)
        if (!(config.peers[i] == config.ip))
            s_peers[s_peer_count++].ip = config.peers[i];
    (void)TRY(Thread::try_create("rpc", service_thread, nullptr));
    (void)TRY(Thread::try_create("rpc-pump", pump_thread, nullptr));
    return {};
}

} // namespace

INIT_FUNCTION(late, rpc_service, rpc_service_init, Optional);

} // namespace tessera
