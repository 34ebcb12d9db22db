// `tessera.rping=server:PORT` / `client:A.B.C.D:PORT` (with
// `tessera.rping.count`, `tessera.rping.size`): rping's two sides, as
// rdma-core's rping speaks them (net/rdma/rping/README.md), on the kernel's
// RDMA device, so that unmodified Linux `rping -c` / `rping -s` pass
// against a Tessera node. The lines it prints are the interop contract:
//
//   rping: listening on A.B.C.D port P         (server, once it accepts)
//   rping: PASS count=N size=S                 (each run that passed)
//   rping: FAIL <reason>                       (each run that did not)
//
// A client run then ends QEMU: ExitCode::Success on PASS, TestFailure on FAIL.
//
// One thread per node runs the role. The portable sessions
// (rping_server_session.h, rping_client_session.h) do the protocol; this
// file feeds them their QP's completions under the device's lock
// (RdmaDevice::with_node) and judges the end.

#include <kernel/boot/boot.h>
#include <kernel/console/console.h>
#include <kernel/init/init.h>
#include <kernel/lib/format.h>
#include <kernel/platform/exit.h>
#include <kernel/sched/thread.h>
#include <net/rdma/rdma_device.h>
#include <net/rdma/rping/lib/rping_client_session.h>
#include <net/rdma/rping/lib/rping_server_session.h>

namespace tessera {

namespace {

using namespace tessera::rdma;
using namespace tessera::rdma::rping;

// A client retries a refused (REJ) or unanswered connect this long: the
// server may boot after it.
constexpr uint64_t connect_retry_ns = 60 * ns_per_second;
constexpr uint64_t connect_attempt_ns = 15 * ns_per_second;
// A run whose peer goes silent ends: no completion for this long.
constexpr uint64_t idle_timeout_ns = 30 * ns_per_second;
// How often the service looks at connection changes while it waits.
constexpr uint64_t wait_slice_ns = 100 * 1000 * 1000;
constexpr size_t cq_capacity = 64;
// rping_create_qp: 16 send WRs, 2 receive WRs.
constexpr uint32_t send_depth = 16;
constexpr uint32_t receive_depth = 2;

const char* wc_opcode_text(WcOpcode opcode)
{
    switch (opcode) {
    case WcOpcode::Send:
        return "SEND";
    case WcOpcode::RdmaWrite:
        return "RDMA WRITE";
    case WcOpcode::RdmaRead:
        return "RDMA READ";
    case WcOpcode::Recv:
    case WcOpcode::RecvRdmaWithImm:
        return "RECV";
    }
    return "?";
}

void print_result(const RpingResult& result)
{
    if (result.status == RpingStatus::Pass) {
        console_print("rping: PASS count=%u size=%u\n", result.pings, result.size);
        return;
    }
    if (result.has_completion)
        console_print("rping: FAIL %s: %s %s after %u pings\n", result.reason, wc_opcode_text(result.completion_opcode),
            wc_status_name(result.completion_status), result.pings);
    else
        console_print("rping: FAIL %s after %u pings\n", result.reason, result.pings);
}

struct Verbs {
    ProtectionDomain* pd { nullptr };
    CompletionQueue* cq { nullptr };

    ErrorOr<void> create(RdmaDevice& device)
    {
        cq = TRY(device.create_cq(cq_capacity));
        pd = TRY(device.with_node([](RdmaNode& node) { return node.engine().alloc_pd(); }));
        return {};
    }
    QpInitAttr qp_attr() const
    {
        return { .qp_type = QpType::Rc,
            .pd = pd,
            .send_cq = cq,
            .recv_cq = cq,
            .max_send_wr = send_depth,
            .max_recv_wr = receive_depth };
    }
};

// Waits for the CQ's completions and hands each to `session` under the
// device's lock, until the session has finished, `stop()` holds, or the
// peer has been silent for idle_timeout_ns (then the session fails).
template<typename Session, typename Stop>
void drive(RdmaDevice& device, Verbs& verbs, Session& session, Stop stop)
{
    uint64_t idle_deadline = deadline_after_ns(idle_timeout_ns);
    while (!session.is_finished() && !stop()) {
        WorkCompletion entries[8];
        auto polled = device.wait_cq(*verbs.cq, Span<WorkCompletion>(entries, 8), deadline_after_ns(wait_slice_ns));
        if (polled.is_error()) {
            if (uptime_ns() >= idle_deadline)
                device.with_node([&](RdmaNode&) { session.fail("timed out waiting for the peer"); });
            continue;
        }
        idle_deadline = deadline_after_ns(idle_timeout_ns);
        size_t count = polled.value();
        device.with_node([&](RdmaNode&) {
            for (size_t i = 0; i < count; ++i) {
                if (entries[i].qp_num == session.qp_num()) // not a previous client's late flush
                    session.on_completion(entries[i]);
            }
        });
    }
}

// What's left in the CQ (flushes after a disconnect), for the session.
template<typename Session>
void drain(RdmaDevice& device, Verbs& verbs, Session& session)
{
    device.with_node([&](RdmaNode&) {
        WorkCompletion entries[8];
        while (size_t count = verbs.cq->poll(Span<WorkCompletion>(entries, 8))) {
            for (size_t i = 0; i < count; ++i) {
                if (entries[i].qp_num == session.qp_num())
                    session.on_completion(entries[i]);
            }
        }
    });
}

// ---- server ----

struct Server {
    Verbs verbs;
    RpingServerOptions options;
    RdmaListenCallbacks callbacks;
    WaitQueue changed;
    // The session is made (and its receive posted) by on_established, on
    // the work queue's thread, as soon as the QP is RTS; the service thread
    // takes it once `connection` is set, and clears both when the run ends.
    OwnPtr<RpingServerSession> session;
    kstd::atomic<RdmaConnection*> connection { nullptr };
    kstd::atomic<bool> disconnected { false };
};

bool server_on_request(void* context, const RdmaConnectRequest&, RdmaAcceptParams& accept)
{
    auto& server = *static_cast<Server*>(context);
    if (server.connection.load() != nullptr)
        return false; // one client at a time, as rping -s without -P
    accept.qp = server.verbs.qp_attr();
    return true;
}

void server_on_established(void* context, RdmaConnection& connection)
{
    auto& server = *static_cast<Server*>(context);
    if (server.connection.load() != nullptr) {
        errorln("rping: a second client connected while one runs; it is left alone");
        return;
    }
    RdmaDevice::the()->with_node([&](RdmaNode& node) {
        auto created = RpingServerSession::try_create(node.engine(), *server.verbs.pd, connection.qp(), server.options);
        if (created.is_error())
            return;
        // rping posts its receive before the REP; the device offers no hook
        // before RTS, so this is the earliest point. A SEND that came first
        // gets an RNR NAK and is retried by the peer (rnr_retry 7).
        if (created.value()->start().is_error())
            return;
        server.session = created.release_value();
    });
    server.changed.change_and_wake_all([&] {
        server.disconnected.store(false);
        server.connection.store(&connection);
    });
}

void server_on_disconnected(void* context, RdmaConnection& connection)
{
    auto& server = *static_cast<Server*>(context);
    if (server.connection.load() != &connection)
        return;
    server.changed.change_and_wake_all([&] { server.disconnected.store(true); });
}

void serve_one(RdmaDevice& device, Server& server, RdmaConnection& connection)
{
    if (!server.session) {
        console_print("rping: FAIL no resources for a client\n");
    } else {
        auto& session = *server.session;
        drive(device, server.verbs, session, [&] { return server.disconnected.load(); });
        if (!session.is_finished()) {
            drain(device, server.verbs, session);
            device.with_node([&](RdmaNode&) { session.on_disconnected(); });
        }
        print_result(session.result());
    }
    // A failed run ends the connection from our side (DREQ); after the
    // client's DREQ this only releases it.
    (void)device.disconnect(connection, 5 * ns_per_second);
    device.with_node([&](RdmaNode&) {
        server.session = nullptr; // its MRs go; the QP is in ERR
        WorkCompletion stale[8];
        while (server.verbs.cq->poll(Span<WorkCompletion>(stale, 8)) != 0) { }
    });
    server.changed.change_and_wake_all([&] { server.connection.store(nullptr); });
}

void run_server(RdmaDevice& device, const RpingConfig& config)
{
    auto* server = new (kstd::nothrow) Server;
    if (server == nullptr || server->verbs.create(device).is_error()) {
        console_print("rping: FAIL no resources to serve port %u\n", config.port);
        delete server; // nothing refers to it yet
        return;
    }
    server->options.expected_count = config.count;
    server->options.expected_size = config.size;
    server->callbacks.on_connect_request = server_on_request;
    server->callbacks.on_established = server_on_established;
    server->callbacks.on_disconnected = server_on_disconnected;
    if (auto result = device.listen(config.port, server->callbacks, server); result.is_error()) {
        console_print("rping: FAIL cannot listen on port %u: %s\n", config.port, errno_name(result.error().code()));
        delete server; // not registered
        return;
    }
    auto const& ip = node_config().ip.octets;
    console_print("rping: listening on %u.%u.%u.%u port %u\n", ip[0], ip[1], ip[2], ip[3], config.port);
    // Serves for ever, one client after another; the listener's callbacks
    // refer to `server`, so it is never freed.
    for (;;) {
        (void)server->changed.wait_until_for(
            [&] { return server->connection.load() != nullptr; }, 3600 * ns_per_second);
        if (RdmaConnection* connection = server->connection.load())
            serve_one(device, *server, *connection);
    }
}

// ---- client ----

void finish_client(bool passed) { platform_exit(passed ? ExitCode::Success : ExitCode::TestFailure); }

void run_client(RdmaDevice& device, const RpingConfig& config)
{
    auto const& ip = config.peer.octets;
    Verbs verbs;
    if (verbs.create(device).is_error()) {
        console_print("rping: FAIL no resources\n");
        finish_client(false);
    }
    uint64_t give_up = deadline_after_ns(connect_retry_ns);
    uint16_t reason = 0;
    uint32_t attempts = 0;
    RdmaConnectParams params;
    params.qp = verbs.qp_attr();
    // rping_init_conn_param: one READ outstanding each way.
    params.responder_resources = 1;
    params.initiator_depth = 1;
    auto connected
        = device.connect_retrying(config.peer, config.port, params, connect_attempt_ns, give_up, &reason, &attempts);
    RdmaConnection* connection = connected.is_error() ? nullptr : connected.value();
    Error last = connected.is_error() ? connected.error() : Error(Errno::TIMEDOUT, "never tried");
    if (connection == nullptr) {
        if (last.code() == Errno::CONNREFUSED)
            console_print("rping: FAIL connect to %u.%u.%u.%u port %u: rejected (REJ %u) after %u attempts\n", ip[0],
                ip[1], ip[2], ip[3], config.port, reason, attempts);
        else
            console_print("rping: FAIL connect to %u.%u.%u.%u port %u: %s after %u attempts\n", ip[0], ip[1], ip[2],
                ip[3], config.port, errno_name(last.code()), attempts);
        finish_client(false);
    }
    RpingClientOptions options {
        .count = config.count != 0 ? config.count : 100, .size = config.size != 0 ? config.size : 64, .verify = true
    };
    OwnPtr<RpingClientSession> session;
    bool started = device.with_node([&](RdmaNode& node) {
        auto created = RpingClientSession::try_create(node.engine(), *verbs.pd, connection->qp(), options);
        if (created.is_error())
            return false;
        session = created.release_value();
        return !session->start().is_error();
    });
    if (!started) {
        console_print("rping: FAIL cannot start the client\n");
        (void)device.disconnect(*connection, 5 * ns_per_second);
        finish_client(false);
    }
    auto gone = [&] {
        auto state = connection->state();
        return state == RdmaConnection::State::Disconnected || state == RdmaConnection::State::Failed;
    };
    drive(device, verbs, *session, gone);
    if (!session->is_finished()) {
        drain(device, verbs, *session);
        device.with_node([&](RdmaNode&) { session->on_disconnected(); });
    }
    // rping's client disconnects after its count (DREQ); the server's loop
    // ends on it.
    auto disconnected = device.disconnect(*connection, 10 * ns_per_second);
    if (disconnected.is_error())
        warnln("rping: disconnect: %s", errno_name(disconnected.error().code()));
    print_result(session->result());
    finish_client(session->result().status == RpingStatus::Pass);
}

void rping_thread(void*)
{
    const RpingConfig& config = node_config().rping;
    // The device comes up at the same init level: wait for it a little.
    RdmaDevice* device = nullptr;
    for (int i = 0; i < 100 && (device = RdmaDevice::the()) == nullptr; ++i)
        sleep_ms(100);
    if (device == nullptr) {
        console_print("rping: FAIL no RDMA device (is tessera.ip set?)\n");
        if (config.role == RpingRole::Client)
            finish_client(false);
        return;
    }
    if (config.role == RpingRole::Server)
        run_server(*device, config);
    else
        run_client(*device, config);
}

ErrorOr<void> rping_service_init()
{
    const RpingConfig& config = node_config().rping;
    if (config.role == RpingRole::None)
        return {};
    if (node_config().mode != BootMode::Ready) {
        console_print("rping: FAIL tessera.rping runs in tessera.mode=ready only\n");
        return {};
    }
    // Detached: the service blocks, the boot goes on.
    (void)TRY(Thread::try_create("rping", rping_thread, nullptr));
    return {};
}

} // namespace

INIT_FUNCTION(late, rping_service, rping_service_init, Optional);

} // namespace tessera
