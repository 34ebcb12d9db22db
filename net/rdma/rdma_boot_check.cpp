// `tessera.rdma.selftest=listen:PORT` / `connect:A.B.C.D:PORT`: a boot-time
// RDMA check between two nodes, for cluster tests (tools/cluster). The
// client connects through the RDMA CM, then for each size SENDs a pattern
// (the server answers with its length and checksum), RDMA WRITEs another
// into the server's window (the server checksums the window on request),
// and RDMA READs the window back, and disconnects. Each side prints one
// `rdma: PASS ...` or `rdma: FAIL ...` line.
//
// Messages (client -> server, SEND): { op, size, 0, 0 } + data for op Send.
// Replies (server -> client, SEND): { op, byte count, checksum, 0 }; the
// server's first message is its window { Hello, size, rkey, va_low, va_high }.

#include <kernel/boot/boot.h>
#include <kernel/console/console.h>
#include <kernel/init/init.h>
#include <kernel/lib/format.h>
#include <kernel/lib/string.h>
#include <kernel/sched/thread.h>
#include <net/rdma/rdma_device.h>

namespace tessera {

namespace {

using namespace tessera::rdma;

enum Op : uint32_t { Hello = 1, SendData = 2, CheckWindow = 3, Done = 4 };

struct Message {
    uint32_t op;
    uint32_t size;
    uint32_t checksum;
    uint32_t rkey;
    uint64_t address;
};

constexpr uint32_t sizes[] = { 1, 1000, 4096, 65536 };
constexpr size_t max_size = 65536;
constexpr size_t region_size = 4 * max_size + 4096;
// Server layout: receive area, window, reply. Client: send, receive, write source, read target.
constexpr size_t receive_offset = 0;
constexpr size_t window_offset = 2 * max_size;
constexpr size_t reply_offset = 3 * max_size;
constexpr size_t send_offset = 0;
constexpr size_t client_receive_offset = max_size + 1024;
constexpr size_t source_offset = 2 * max_size;
constexpr size_t target_offset = 3 * max_size;
constexpr uint64_t step_timeout_ns = 20 * ns_per_second;

// "EPROTO (send/recv checksum mismatch)", in a static buffer (one check thread).
const char* describe(const Error& error)
{
    static char text[96];
    format(text, sizeof(text), "%s (%s)", errno_name(error.code()), error.what() ? error.what() : "-");
    return text;
}

uint32_t checksum(const uint8_t* data, size_t length)
{
    uint32_t hash = 2166136261u;
    for (size_t i = 0; i < length; ++i)
        hash = (hash ^ data[i]) * 16777619u;
    return hash;
}

void fill(uint8_t* data, size_t length, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < length; ++i) {
        x = x * 1103515245u + 12345u;
        data[i] = static_cast<uint8_t>(x >> 16);
    }
}

// One side's verbs objects.
struct Resources {
    ProtectionDomain* pd { nullptr };
    CompletionQueue* cq { nullptr };
    rdma::MemoryRegion* mr { nullptr };
    uint8_t* buffer { nullptr };

    // One check runs per boot (server or client), so one static buffer
    // serves it; it stays registered for the rest of the boot.
    ErrorOr<void> create(RdmaDevice& device)
    {
        static uint8_t s_buffer[region_size];
        buffer = s_buffer;
        cq = TRY(device.create_cq(64));
        return device.with_node([&](RdmaNode& node) -> ErrorOr<void> {
            pd = TRY(node.engine().alloc_pd());
            mr = TRY(node.engine().register_mr(
                *pd, buffer, region_size, access_local_write | access_remote_write | access_remote_read));
            return {};
        });
    }
    QpInitAttr qp_attr() const
    {
        return { .qp_type = QpType::Rc, .pd = pd, .send_cq = cq, .recv_cq = cq, .max_send_wr = 16, .max_recv_wr = 16 };
    }
    Sge sge(size_t offset, uint32_t length) const { return { mr->virtual_address() + offset, length, mr->lkey() }; }
};

ErrorOr<void> post_recv(RdmaDevice& device, QueuePair& qp, const Resources& r, size_t offset, uint32_t length)
{
    RecvWr wr;
    wr.wr_id = offset;
    wr.sg_list[0] = r.sge(offset, length);
    wr.num_sge = 1;
    return device.post_recv(qp, wr);
}

ErrorOr<void> post(RdmaDevice& device, QueuePair& qp, WrOpcode opcode, Sge sge, uint64_t remote = 0, uint32_t rkey = 0)
{
    SendWr wr;
    wr.wr_id = static_cast<uint64_t>(opcode);
    wr.opcode = opcode;
    wr.sg_list[0] = sge;
    wr.num_sge = 1;
    wr.remote_addr = remote;
    wr.rkey = rkey;
    return device.post_send(qp, wr);
}

// Waits for one completion of `opcode`, successful; skips successful sends.
ErrorOr<WorkCompletion> wait_for(RdmaDevice& device, Resources& r, WcOpcode opcode)
{
    uint64_t deadline = deadline_after_ns(step_timeout_ns);
    for (;;) {
        WorkCompletion wc;
        TRY(device.wait_cq(*r.cq, Span<WorkCompletion>(&wc, 1), deadline));
        if (wc.status != WcStatus::Success) {
            errorln("rdma: completion %s for opcode %u", wc_status_name(wc.status), static_cast<unsigned>(wc.opcode));
            return Error(Errno::IO, "work completion error");
        }
        if (wc.opcode == opcode)
            return wc;
    }
}

// ---- server ----

struct Server {
    Resources resources;
    uint16_t port { 0 };
    RdmaListenCallbacks callbacks;
    WaitQueue changed;
    kstd::atomic<RdmaConnection*> connection { nullptr };
    kstd::atomic<bool> disconnected { false };
};

bool server_on_request(void* context, const RdmaConnectRequest&, RdmaAcceptParams& accept)
{
    auto& server = *static_cast<Server*>(context);
    if (server.connection.load() != nullptr)
        return false; // one client
    accept.qp = server.resources.qp_attr();
    return true;
}

void server_on_established(void* context, RdmaConnection& connection)
{
    auto& server = *static_cast<Server*>(context);
    server.changed.change_and_wake_all([&] { server.connection.store(&connection); });
}

void server_on_disconnected(void* context, RdmaConnection&)
{
    auto& server = *static_cast<Server*>(context);
    server.changed.change_and_wake_all([&] { server.disconnected.store(true); });
}

ErrorOr<void> serve_one(RdmaDevice& device, Server& server, uint32_t& served)
{
    auto& r = server.resources;
    TRY(server.changed.wait_until_for([&] { return server.connection.load() != nullptr; }, 300 * ns_per_second));
    RdmaConnection& connection = *server.connection.load();
    QueuePair& qp = connection.qp();
    auto* reply = reinterpret_cast<Message*>(r.buffer + reply_offset);
    TRY(post_recv(device, qp, r, receive_offset, static_cast<uint32_t>(max_size + sizeof(Message))));
    *reply = { .op = Hello,
        .size = static_cast<uint32_t>(max_size),
        .checksum = 0,
        .rkey = r.mr->rkey(),
        .address = r.mr->virtual_address() + window_offset };
    TRY(post(device, qp, WrOpcode::Send, r.sge(reply_offset, sizeof(Message))));
    for (;;) {
        WorkCompletion wc = TRY(wait_for(device, r, WcOpcode::Recv));
        Message request;
        memcpy(&request, r.buffer + receive_offset, sizeof(request));
        if (wc.byte_len < sizeof(Message))
            return Error(Errno::PROTO, "short message");
        TRY(post_recv(device, qp, r, receive_offset, static_cast<uint32_t>(max_size + sizeof(Message))));
        Message answer { .op = request.op, .size = 0, .checksum = 0, .rkey = 0, .address = 0 };
        if (request.op == SendData) {
            answer.size = wc.byte_len - static_cast<uint32_t>(sizeof(Message));
            answer.checksum = checksum(r.buffer + receive_offset + sizeof(Message), answer.size);
        } else if (request.op == CheckWindow) {
            if (request.size > max_size)
                return Error(Errno::PROTO, "window check too large");
            answer.size = request.size;
            answer.checksum = checksum(r.buffer + window_offset, request.size);
        } else if (request.op != Done) {
            return Error(Errno::PROTO, "unknown op");
        }
        // The previous reply's send completed before the next request came.
        memcpy(r.buffer + reply_offset, &answer, sizeof(answer));
        TRY(post(device, qp, WrOpcode::Send, r.sge(reply_offset, sizeof(Message))));
        ++served;
        if (request.op == Done)
            break;
    }
    TRY(server.changed.wait_until_for([&] { return server.disconnected.load(); }, 60 * ns_per_second));
    return device.disconnect(connection, ns_per_second);
}

void run_server(RdmaDevice& device, uint16_t port)
{
    auto* server = new (kstd::nothrow) Server;
    if (server == nullptr || server->resources.create(device).is_error()) {
        console_print("rdma: FAIL listen:%u: no resources\n", port);
        delete server; // nothing refers to it yet
        return;
    }
    server->port = port;
    server->callbacks.on_connect_request = server_on_request;
    server->callbacks.on_established = server_on_established;
    server->callbacks.on_disconnected = server_on_disconnected;
    if (auto result = device.listen(port, server->callbacks, server); result.is_error()) {
        console_print("rdma: FAIL listen:%u: %s\n", port, describe(result.error()));
        delete server; // not registered
        return;
    }
    console_print("rdma: listening on port %u\n", port);
    uint32_t served = 0;
    auto result = serve_one(device, *server, served);
    if (result.is_error())
        console_print("rdma: FAIL serving port %u after %u messages: %s\n", port, served, describe(result.error()));
    else
        console_print("rdma: PASS served one connection on port %u (%u messages)\n", port, served);
    // The server's objects stay: the listener's callbacks refer to them.
}

// ---- client ----

ErrorOr<Message> exchange(RdmaDevice& device, QueuePair& qp, Resources& r, const Message& request, uint32_t data_size)
{
    memcpy(r.buffer + send_offset, &request, sizeof(request));
    TRY(post_recv(device, qp, r, client_receive_offset, sizeof(Message)));
    TRY(post(device, qp, WrOpcode::Send, r.sge(send_offset, static_cast<uint32_t>(sizeof(Message) + data_size))));
    TRY(wait_for(device, r, WcOpcode::Recv));
    Message answer;
    memcpy(&answer, r.buffer + client_receive_offset, sizeof(answer));
    return answer;
}

ErrorOr<void> run_checks(RdmaDevice& device, RdmaConnection& connection, Resources& r, const char*& failed)
{
    QueuePair& qp = connection.qp();
    failed = "hello";
    TRY(post_recv(device, qp, r, client_receive_offset, sizeof(Message)));
    TRY(wait_for(device, r, WcOpcode::Recv));
    Message hello;
    memcpy(&hello, r.buffer + client_receive_offset, sizeof(hello));
    if (hello.op != Hello || hello.size < max_size)
        return Error(Errno::PROTO, "bad hello");
    for (uint32_t size : sizes) {
        failed = "send/recv";
        fill(r.buffer + send_offset + sizeof(Message), size, size);
        Message answer = TRY(exchange(device, qp, r, { .op = SendData }, size));
        if (answer.op != SendData || answer.size != size
            || answer.checksum != checksum(r.buffer + send_offset + sizeof(Message), size)) {
            console_print(
                "rdma: send/recv %u: server saw %u bytes, checksum %08x\n", size, answer.size, answer.checksum);
            return Error(Errno::PROTO, "send/recv checksum mismatch");
        }
        failed = "write";
        fill(r.buffer + source_offset, size, size + 7);
        TRY(post(device, qp, WrOpcode::RdmaWrite, r.sge(source_offset, size), hello.address, hello.rkey));
        TRY(wait_for(device, r, WcOpcode::RdmaWrite));
        answer = TRY(exchange(device, qp, r, { .op = CheckWindow, .size = size }, 0));
        if (answer.checksum != checksum(r.buffer + source_offset, size))
            return Error(Errno::PROTO, "write checksum mismatch");
        failed = "read";
        memset(r.buffer + target_offset, 0, size);
        TRY(post(device, qp, WrOpcode::RdmaRead, r.sge(target_offset, size), hello.address, hello.rkey));
        TRY(wait_for(device, r, WcOpcode::RdmaRead));
        if (memcmp(r.buffer + target_offset, r.buffer + source_offset, size) != 0)
            return Error(Errno::PROTO, "read mismatch");
    }
    failed = "done";
    TRY(exchange(device, qp, r, { .op = Done }, 0));
    return {};
}

void run_client(RdmaDevice& device, Ipv4Address peer, uint16_t port)
{
    auto const& ip = peer.octets;
    Resources r;
    if (r.create(device).is_error()) {
        console_print("rdma: FAIL connect:%u.%u.%u.%u:%u: no resources\n", ip[0], ip[1], ip[2], ip[3], port);
        return;
    }
    // The server boots alongside: REJ 8 (not listening yet) and silence
    // (not up yet) are retried for 20 s.
    uint64_t give_up = deadline_after_ns(20 * ns_per_second);
    uint16_t reason = 0;
    RdmaConnectParams params;
    params.qp = r.qp_attr();
    auto connected = device.connect_retrying(peer, port, params, 15 * ns_per_second, give_up, &reason);
    RdmaConnection* connection = connected.is_error() ? nullptr : connected.value();
    Error last = connected.is_error() ? connected.error() : Error(Errno::TIMEDOUT, "never tried");
    if (connection == nullptr) {
        if (last.code() == Errno::CONNREFUSED)
            console_print(
                "rdma: FAIL connect:%u.%u.%u.%u:%u: rejected (REJ %u)\n", ip[0], ip[1], ip[2], ip[3], port, reason);
        else
            console_print("rdma: FAIL connect:%u.%u.%u.%u:%u: %s\n", ip[0], ip[1], ip[2], ip[3], port, describe(last));
        return;
    }
    const char* failed = "";
    auto result = run_checks(device, *connection, r, failed);
    auto disconnected = device.disconnect(*connection, 10 * ns_per_second);
    if (result.is_error()) {
        console_print("rdma: FAIL %s to %u.%u.%u.%u:%u: %s\n", failed, ip[0], ip[1], ip[2], ip[3], port,
            describe(result.error()));
        return;
    }
    if (disconnected.is_error()) {
        console_print("rdma: FAIL disconnect from %u.%u.%u.%u:%u: %s\n", ip[0], ip[1], ip[2], ip[3], port,
            describe(disconnected.error()));
        return;
    }
    console_print("rdma: PASS connect+send/recv+write+read sizes 1,1000,4096,65536 to %u.%u.%u.%u:%u\n", ip[0], ip[1],
        ip[2], ip[3], port);
}

void check_thread(void*)
{
    const RdmaSelftestConfig& config = node_config().rdma_selftest;
    // The device comes up at the same init level: wait for it a little.
    RdmaDevice* device = nullptr;
    for (int i = 0; i < 100 && (device = RdmaDevice::the()) == nullptr; ++i)
        sleep_ms(100);
    if (device == nullptr) {
        console_print("rdma: FAIL no RDMA device (is tessera.ip set?)\n");
        return;
    }
    if (config.role == RdmaSelftestRole::Listen)
        run_server(*device, config.port);
    else
        run_client(*device, config.peer, config.port);
}

ErrorOr<void> rdma_boot_check_init()
{
    if (node_config().rdma_selftest.role == RdmaSelftestRole::None)
        return {};
    // Detached: the check blocks, the boot goes on.
    (void)TRY(Thread::try_create("rdma-check", check_thread, nullptr));
    return {};
}

} // namespace

INIT_FUNCTION(late, rdma_boot_check, rdma_boot_check_init, Optional);

} // namespace tessera
