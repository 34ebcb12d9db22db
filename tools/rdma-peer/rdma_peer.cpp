// rdma-peer: a librdmacm + libibverbs test peer (tools/rdma-peer/README.md).
// Server or client over one RC connection; each side in turn drives SEND,
// WRITE, WRITE_WITH_IMM and READ for every size, the other side checks
// every byte; one line per operation and size, then `rdma-peer: PASS` or
// `rdma-peer: FAIL <reason>`. Runs inside the Linux peer guest
// (tools/linux-peer) and on any Linux host with an RDMA device.

#include "wire.h"

#include <arpa/inet.h>
#include <infiniband/verbs.h>
#include <netdb.h>
#include <poll.h>
#include <rdma/rdma_cma.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace rdma_peer;

namespace {

struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Options {
    bool server { false };
    std::string address; // client: the server's; server: bind address (default any)
    int port { 20886 };
    std::vector<uint32_t> sizes;
    std::vector<Op> ops { Op::Send, Op::Write, Op::WriteImm, Op::Read };
    uint32_t region { 1u << 20 };
    int path_mtu { 0 }; // 0: do not check
    bool oob { false };
    double connect_timeout { 0 }; // client: keep retrying a refused connect this long
    double timeout { 30 }; // any single wait
    int connections { 1 }; // server: connections to serve before exiting
    bool quiet { false };
};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...)
{
    char buffer[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(buffer, sizeof buffer, fmt, args);
    va_end(args);
    return buffer;
}

std::vector<uint32_t> default_sizes()
{
    std::vector<uint32_t> sizes;
    for (uint32_t size = 1; size <= (1u << 20); size <<= 1)
        sizes.push_back(size);
    // Odd sizes: pad counts 1-3, one byte either side of a 1024/4096 path
    // MTU (a LAST of 1 byte, a FIRST+LAST split) and a many-packet odd one.
    for (uint32_t size : { 3u, 7u, 1023u, 1025u, 4095u, 4097u, 65537u, 1000003u })
        sizes.push_back(size);
    return sizes;
}

const char* cm_event_name(rdma_cm_event_type type) { return rdma_event_str(type); }

// One RC connection and everything registered for it.
class Connection {
public:
    Connection(const Options& options, rdma_event_channel* channel, rdma_cm_id* id)
        : m_options(options)
        , m_channel(channel)
        , m_id(id)
    {
    }
    ~Connection() { teardown(); }

    // Allocates PD, CQ, QP, MRs and posts every receive: before rdma_connect
    // or rdma_accept, so the peer's first SEND always finds one.
    void setup()
    {
        m_pd = ibv_alloc_pd(m_id->verbs);
        if (!m_pd)
            throw Failure("ibv_alloc_pd failed");
        m_comp_channel = ibv_create_comp_channel(m_id->verbs);
        if (!m_comp_channel)
            throw Failure("ibv_create_comp_channel failed");
        m_cq = ibv_create_cq(m_id->verbs, 64, nullptr, m_comp_channel, 0);
        if (!m_cq)
            throw Failure("ibv_create_cq failed");
        ibv_qp_init_attr attr {};
        attr.send_cq = m_cq;
        attr.recv_cq = m_cq;
        attr.qp_type = IBV_QPT_RC;
        attr.cap.max_send_wr = 16;
        attr.cap.max_recv_wr = receive_slots;
        attr.cap.max_send_sge = 1;
        attr.cap.max_recv_sge = 1;
        if (rdma_create_qp(m_id, m_pd, &attr))
            throw Failure(format("rdma_create_qp: %s", strerror(errno)));
        m_qp_created = true;

        m_region.assign(m_options.region, 0);
        m_local.assign(m_options.region, 0);
        m_slots.assign(static_cast<size_t>(m_options.region) * receive_slots, 0);
        m_control.assign(message_size, 0);
        int remote = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
        m_region_mr = register_memory(m_region, remote);
        m_local_mr = register_memory(m_local, IBV_ACCESS_LOCAL_WRITE);
        m_slots_mr = register_memory(m_slots, IBV_ACCESS_LOCAL_WRITE);
        m_control_mr = register_memory(m_control, 0);
        for (uint32_t slot = 0; slot < receive_slots; ++slot)
            post_receive(slot);
    }

    rdma_cm_id* id() { return m_id; }
    ibv_qp* qp() { return m_id->qp; }
    uint8_t* region() { return m_region.data(); }
    uint32_t region_size() const { return m_options.region; }
    uint8_t* local() { return m_local.data(); }
    const Message& peer_hello() const { return m_peer; }

    // Reports the QP's path MTU and checks it against --path-mtu.
    void check_path_mtu()
    {
        ibv_qp_attr attr {};
        ibv_qp_init_attr init {};
        if (ibv_query_qp(qp(), &attr, IBV_QP_PATH_MTU, &init))
            throw Failure("ibv_query_qp failed");
        int bytes = 128 << static_cast<int>(attr.path_mtu);
        say(format("rdma-peer: connected, path MTU %d, QPN 0x%x", bytes, qp()->qp_num));
        if (m_options.path_mtu && bytes != m_options.path_mtu)
            throw Failure(
                format("path MTU is %d, expected %d (set the port MTU through eth0's MTU)", bytes, m_options.path_mtu));
    }

    void exchange_hello()
    {
        Message hello;
        hello.type = MessageType::Hello;
        hello.va = reinterpret_cast<uintptr_t>(m_region.data());
        hello.rkey = m_region_mr->rkey;
        hello.length = m_options.region;
        send_message(hello);
        m_peer = receive_message();
        if (m_peer.type != MessageType::Hello)
            throw Failure(format("expected Hello, got %s", message_type_name(m_peer.type)));
        say(format("rdma-peer: peer region va=0x%llx rkey=0x%x length=%u", static_cast<unsigned long long>(m_peer.va),
            m_peer.rkey, m_peer.length));
    }

    void send_message(const Message& message)
    {
        encode_message(message, m_control.data());
        post_send(IBV_WR_SEND, m_control_mr, m_control.data(), message_size, 0, 0, 0);
        wait_send();
    }

    Message receive_message()
    {
        ibv_wc wc = wait_receive();
        if (wc.opcode != IBV_WC_RECV)
            throw Failure(format("expected a control SEND, got completion opcode %d", wc.opcode));
        Message message;
        bool ok = decode_message(slot(wc.wr_id), wc.byte_len, message);
        post_receive(static_cast<uint32_t>(wc.wr_id));
        if (!ok)
            throw Failure(format("malformed control message (%u bytes)", wc.byte_len));
        return message;
    }

    // Posts one work request on the send queue (always signalled).
    void post_send(ibv_wr_opcode opcode, ibv_mr* mr, void* address, uint32_t length, uint64_t remote_va, uint32_t rkey,
        uint32_t immediate)
    {
        ibv_sge sge {};
        sge.addr = reinterpret_cast<uintptr_t>(address);
        sge.length = length;
        sge.lkey = mr->lkey;
        ibv_send_wr wr {};
        wr.wr_id = ++m_send_id;
        wr.sg_list = &sge;
        wr.num_sge = 1;
        wr.opcode = opcode;
        wr.send_flags = IBV_SEND_SIGNALED;
        wr.wr.rdma.remote_addr = remote_va;
        wr.wr.rdma.rkey = rkey;
        wr.imm_data = htonl(immediate);
        ibv_send_wr* bad = nullptr;
        if (ibv_post_send(qp(), &wr, &bad))
            throw Failure(format("ibv_post_send: %s", strerror(errno)));
    }

    ibv_mr* local_mr() { return m_local_mr; }

    // The next send completion, which must be IBV_WC_SUCCESS unless
    // `expected` says otherwise; returns its status.
    ibv_wc_status wait_send(ibv_wc_status expected = IBV_WC_SUCCESS)
    {
        for (;;) {
            ibv_wc wc = next_completion();
            if (wc.opcode & IBV_WC_RECV) {
                m_receives.push_back(wc);
                continue;
            }
            if (wc.status != expected)
                throw Failure(format(
                    "send completion: %s, expected %s", ibv_wc_status_str(wc.status), ibv_wc_status_str(expected)));
            return wc.status;
        }
    }

    ibv_wc wait_receive()
    {
        if (m_receives.empty()) {
            for (;;) {
                ibv_wc wc = next_completion();
                if (wc.opcode & IBV_WC_RECV) {
                    m_receives.push_back(wc);
                    break;
                }
                throw Failure(
                    format("unexpected send completion %s while waiting to receive", ibv_wc_status_str(wc.status)));
            }
        }
        ibv_wc wc = m_receives.front();
        m_receives.pop_front();
        if (wc.status != IBV_WC_SUCCESS)
            throw Failure(format("receive completion: %s", ibv_wc_status_str(wc.status)));
        return wc;
    }

    uint8_t* slot(uint64_t index) { return m_slots.data() + index * m_options.region; }
    void post_receive(uint32_t index)
    {
        ibv_sge sge {};
        sge.addr = reinterpret_cast<uintptr_t>(slot(index));
        sge.length = m_options.region;
        sge.lkey = m_slots_mr->lkey;
        ibv_recv_wr wr {};
        wr.wr_id = index;
        wr.sg_list = &sge;
        wr.num_sge = 1;
        ibv_recv_wr* bad = nullptr;
        if (ibv_post_recv(qp(), &wr, &bad))
            throw Failure(format("ibv_post_recv: %s", strerror(errno)));
    }

    void say(const std::string& line) const
    {
        if (!m_options.quiet || line.find(" FAIL") != std::string::npos)
            printf("%s\n", line.c_str());
        fflush(stdout);
    }

    // The CM event of the given type on this connection's channel.
    void wait_disconnected(double timeout)
    {
        Clock::time_point start = Clock::now();
        while (seconds_since(start) < timeout) {
            pollfd pfd { m_channel->fd, POLLIN, 0 };
            if (poll(&pfd, 1, 100) <= 0)
                continue;
            rdma_cm_event* event = nullptr;
            if (rdma_get_cm_event(m_channel, &event))
                return;
            rdma_cm_event_type type = event->event;
            rdma_ack_cm_event(event);
            if (type == RDMA_CM_EVENT_DISCONNECTED || type == RDMA_CM_EVENT_TIMEWAIT_EXIT)
                return;
        }
    }

    static constexpr uint32_t receive_slots = 4;

private:
    ibv_mr* register_memory(std::vector<uint8_t>& buffer, int access)
    {
        ibv_mr* mr = ibv_reg_mr(m_pd, buffer.data(), buffer.size(), access);
        if (!mr)
            throw Failure(format("ibv_reg_mr of %zu bytes: %s", buffer.size(), strerror(errno)));
        m_mrs.push_back(mr);
        return mr;
    }

    ibv_wc next_completion()
    {
        Clock::time_point start = Clock::now();
        for (;;) {
            ibv_wc wc {};
            int n = ibv_poll_cq(m_cq, 1, &wc);
            if (n < 0)
                throw Failure("ibv_poll_cq failed");
            if (n == 1)
                return wc;
            // Nothing there: arm, look once more (a completion between the
            // poll and the arm raises no event), then sleep on the channel.
            if (ibv_req_notify_cq(m_cq, 0))
                throw Failure("ibv_req_notify_cq failed");
            n = ibv_poll_cq(m_cq, 1, &wc);
            if (n == 1)
                return wc;
            double left = m_options.timeout - seconds_since(start);
            if (left <= 0)
                throw Failure(format("no completion within %.0f s", m_options.timeout));
            pollfd pfd { m_comp_channel->fd, POLLIN, 0 };
            if (poll(&pfd, 1, static_cast<int>(left * 1000) + 1) > 0) {
                ibv_cq* cq = nullptr;
                void* context = nullptr;
                if (ibv_get_cq_event(m_comp_channel, &cq, &context) == 0)
                    ibv_ack_cq_events(cq, 1);
            }
        }
    }

    void teardown()
    {
        if (m_qp_created)
            rdma_destroy_qp(m_id);
        for (ibv_mr* mr : m_mrs)
            ibv_dereg_mr(mr);
        if (m_cq)
            ibv_destroy_cq(m_cq);
        if (m_comp_channel)
            ibv_destroy_comp_channel(m_comp_channel);
        if (m_pd)
            ibv_dealloc_pd(m_pd);
        if (m_id)
            rdma_destroy_id(m_id);
    }

    const Options& m_options;
    rdma_event_channel* m_channel;
    rdma_cm_id* m_id;
    ibv_pd* m_pd { nullptr };
    ibv_comp_channel* m_comp_channel { nullptr };
    ibv_cq* m_cq { nullptr };
    bool m_qp_created { false };
    std::vector<uint8_t> m_region, m_local, m_slots, m_control;
    ibv_mr* m_region_mr { nullptr };
    ibv_mr* m_local_mr { nullptr };
    ibv_mr* m_slots_mr { nullptr };
    ibv_mr* m_control_mr { nullptr };
    std::vector<ibv_mr*> m_mrs;
    std::deque<ibv_wc> m_receives;
    uint64_t m_send_id { 0 };
    Message m_peer;
};

rdma_cm_event_type wait_cm_event(rdma_event_channel* channel, double timeout, rdma_cm_event** out)
{
    pollfd pfd { channel->fd, POLLIN, 0 };
    if (poll(&pfd, 1, static_cast<int>(timeout * 1000)) <= 0)
        throw Failure(format("no RDMA CM event within %.0f s", timeout));
    if (rdma_get_cm_event(channel, out))
        throw Failure(format("rdma_get_cm_event: %s", strerror(errno)));
    return (*out)->event;
}

// Waits for one CM event and acks it; throws unless it is `expected`.
void expect_cm_event(rdma_event_channel* channel, rdma_cm_event_type expected, double timeout, const char* step)
{
    rdma_cm_event* event = nullptr;
    rdma_cm_event_type type = wait_cm_event(channel, timeout, &event);
    int status = event->status;
    rdma_ack_cm_event(event);
    if (type != expected)
        throw Failure(
            format("%s: got %s (status %d), expected %s", step, cm_event_name(type), status, cm_event_name(expected)));
}

rdma_conn_param connection_parameters()
{
    rdma_conn_param param {};
    param.responder_resources = 4;
    param.initiator_depth = 4;
    // rxe treats 7 as "retry forever" (docs/wire/roce-v2.md): a dead peer must
    // end in IBV_WC_RETRY_EXC_ERR, not an endless loop.
    param.retry_count = 6;
    param.rnr_retry_count = 6;
    return param;
}

sockaddr_in parse_address(const std::string& text, int port)
{
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    if (!text.empty() && inet_pton(AF_INET, text.c_str(), &address.sin_addr) != 1)
        throw Failure(format("not an IPv4 address: %s", text.c_str()));
    return address;
}

// One attempt at connecting; nullptr when refused or unreachable (retry).
std::unique_ptr<Connection> try_connect(const Options& options, rdma_event_channel* channel, std::string& why)
{
    rdma_cm_id* id = nullptr;
    if (rdma_create_id(channel, &id, nullptr, RDMA_PS_TCP))
        throw Failure("rdma_create_id failed");
    auto connection = std::make_unique<Connection>(options, channel, id);
    sockaddr_in address = parse_address(options.address, options.port);
    if (rdma_resolve_addr(id, nullptr, reinterpret_cast<sockaddr*>(&address), 2000))
        throw Failure(format("rdma_resolve_addr: %s", strerror(errno)));
    rdma_cm_event* event = nullptr;
    rdma_cm_event_type type = wait_cm_event(channel, 10, &event);
    rdma_ack_cm_event(event);
    if (type != RDMA_CM_EVENT_ADDR_RESOLVED) {
        why = format("address resolution: %s", cm_event_name(type));
        return nullptr;
    }
    if (rdma_resolve_route(id, 2000))
        throw Failure(format("rdma_resolve_route: %s", strerror(errno)));
    type = wait_cm_event(channel, 10, &event);
    rdma_ack_cm_event(event);
    if (type != RDMA_CM_EVENT_ROUTE_RESOLVED) {
        why = format("route resolution: %s", cm_event_name(type));
        return nullptr;
    }
    connection->setup();
    rdma_conn_param param = connection_parameters();
    if (rdma_connect(id, &param))
        throw Failure(format("rdma_connect: %s", strerror(errno)));
    type = wait_cm_event(channel, 30, &event);
    int status = event->status;
    rdma_ack_cm_event(event);
    if (type != RDMA_CM_EVENT_ESTABLISHED) {
        why = format("connect to %s port %d: %s (status %d)", options.address.c_str(), options.port,
            cm_event_name(type), status);
        return nullptr;
    }
    return connection;
}

std::unique_ptr<Connection> connect_client(const Options& options, rdma_event_channel* channel)
{
    Clock::time_point start = Clock::now();
    for (;;) {
        std::string why;
        auto connection = try_connect(options, channel, why);
        if (connection)
            return connection;
        if (seconds_since(start) >= options.connect_timeout)
            throw Failure(why);
        usleep(500 * 1000);
    }
}

std::unique_ptr<Connection> accept_one(const Options& options, rdma_event_channel* channel, double timeout)
{
    rdma_cm_event* event = nullptr;
    rdma_cm_event_type type = wait_cm_event(channel, timeout, &event);
    if (type != RDMA_CM_EVENT_CONNECT_REQUEST) {
        rdma_ack_cm_event(event);
        throw Failure(format("listening: got %s, expected a connect request", cm_event_name(type)));
    }
    rdma_cm_id* child = event->id;
    rdma_ack_cm_event(event);
    auto connection = std::make_unique<Connection>(options, channel, child);
    connection->setup();
    rdma_conn_param param = connection_parameters();
    if (rdma_accept(child, &param))
        throw Failure(format("rdma_accept: %s", strerror(errno)));
    expect_cm_event(channel, RDMA_CM_EVENT_ESTABLISHED, 30, "accept");
    return connection;
}

// The driving side of one operation of `length` bytes.
void drive(Connection& c, const std::string& driver, const std::string& direction, Op op, uint32_t length)
{
    const Message& peer = c.peer_hello();
    if (length > peer.length)
        throw Failure(format("%s %u bytes exceeds the peer's region (%u)", op_name(op), length, peer.length));
    uint32_t seed = operation_seed(driver, op, length);
    Clock::time_point start = Clock::now();
    Message expect;
    expect.type = MessageType::Expect;
    expect.op = op;
    expect.length = length;
    expect.seed = seed;
    switch (op) {
    case Op::Send:
        c.send_message(expect);
        fill_pattern(c.local(), length, seed);
        c.post_send(IBV_WR_SEND, c.local_mr(), c.local(), length, 0, 0, 0);
        c.wait_send();
        break;
    case Op::Write:
        // RC order: the WRITE is placed before the Expect SEND that follows
        // it is delivered, so the peer checks its region on the Expect.
        fill_pattern(c.local(), length, seed);
        c.post_send(IBV_WR_RDMA_WRITE, c.local_mr(), c.local(), length, peer.va, peer.rkey, 0);
        c.wait_send();
        c.send_message(expect);
        break;
    case Op::WriteImm:
        c.send_message(expect);
        fill_pattern(c.local(), length, seed);
        c.post_send(IBV_WR_RDMA_WRITE_WITH_IMM, c.local_mr(), c.local(), length, peer.va, peer.rkey, seed);
        c.wait_send();
        break;
    case Op::Read: {
        Message fill;
        fill.type = MessageType::Fill;
        fill.op = Op::Read;
        fill.length = length;
        fill.seed = seed;
        c.send_message(fill);
        break;
    }
    case Op::None:
        throw Failure("no op");
    }
    Message result = c.receive_message();
    if (result.type != MessageType::Result || result.op != op || result.length != length)
        throw Failure(format("%s %u: bad answer %s op %s length %u", op_name(op), length,
            message_type_name(result.type), op_name(result.op), result.length));
    if (result.status != Status::Ok)
        throw Failure(format("%s %s %u: the peer saw status %d detail %u", direction.c_str(), op_name(op), length,
            static_cast<int>(result.status), result.detail));
    if (op == Op::Read) {
        std::memset(c.local(), 0, length);
        c.post_send(IBV_WR_RDMA_READ, c.local_mr(), c.local(), length, peer.va, peer.rkey, 0);
        c.wait_send();
        long bad = find_mismatch(c.local(), length, seed);
        if (bad >= 0)
            throw Failure(format("%s READ %u: data differs at offset %ld", direction.c_str(), length, bad));
    }
    c.say(format("rdma-peer: %s %s %u ok %.0fus", direction.c_str(), op_name(op), length, seconds_since(start) * 1e6));
}

// The checking side: answers Expect and Fill until Turn or Done arrives;
// returns that message's type.
MessageType respond(Connection& c, const std::string& direction)
{
    for (;;) {
        Message message = c.receive_message();
        if (message.type == MessageType::Turn || message.type == MessageType::Done || message.type == MessageType::Oob)
            return message.type;
        Message result;
        result.type = MessageType::Result;
        result.op = message.op;
        result.length = message.length;
        if (message.length > c.region_size()) {
            result.status = Status::TooLarge;
            c.send_message(result);
            throw Failure(
                format("%s %s %u: larger than our region", direction.c_str(), op_name(message.op), message.length));
        }
        if (message.type == MessageType::Fill) {
            fill_pattern(c.region(), message.length, message.seed);
            c.send_message(result);
            continue;
        }
        if (message.type != MessageType::Expect)
            throw Failure(format("unexpected %s", message_type_name(message.type)));
        const uint8_t* data = c.region();
        if (message.op == Op::Send || message.op == Op::WriteImm) {
            ibv_wc wc = c.wait_receive();
            ibv_wc_opcode want = message.op == Op::Send ? IBV_WC_RECV : IBV_WC_RECV_RDMA_WITH_IMM;
            if (wc.opcode != want) {
                result.status = Status::BadOpcode;
                result.detail = wc.opcode;
            } else if (wc.byte_len != message.length) {
                result.status = Status::BadLength;
                result.detail = wc.byte_len;
            } else if (message.op == Op::WriteImm
                && (!(wc.wc_flags & IBV_WC_WITH_IMM) || ntohl(wc.imm_data) != message.seed)) {
                result.status = Status::BadImmediate;
                result.detail = ntohl(wc.imm_data);
            }
            if (message.op == Op::Send)
                data = c.slot(wc.wr_id);
            if (result.status == Status::Ok) {
                long bad = find_mismatch(data, message.length, message.seed);
                if (bad >= 0) {
                    result.status = Status::Mismatch;
                    result.detail = static_cast<uint32_t>(bad);
                }
            }
            c.post_receive(static_cast<uint32_t>(wc.wr_id));
        } else {
            long bad = find_mismatch(data, message.length, message.seed);
            if (bad >= 0) {
                result.status = Status::Mismatch;
                result.detail = static_cast<uint32_t>(bad);
            }
        }
        c.send_message(result);
        if (result.status != Status::Ok)
            throw Failure(format("%s %s %u: status %d at %u", direction.c_str(), op_name(message.op), message.length,
                static_cast<int>(result.status), result.detail));
    }
}

void drive_all(Connection& c, const Options& options, const std::string& driver, const std::string& direction)
{
    for (Op op : options.ops) {
        for (uint32_t size : options.sizes)
            drive(c, driver, direction, op, size);
    }
}

// Out-of-bounds: a WRITE, then (on a new connection) a READ, of 16 bytes
// straddling the end of the peer's region; each must fail with
// IBV_WC_REM_ACCESS_ERR (rxe NAKs 0x62 and both QPs go to the error state).
void run_oob_client(const Options& options, rdma_event_channel* channel)
{
    for (Op op : { Op::Write, Op::Read }) {
        auto c = connect_client(options, channel);
        c->check_path_mtu();
        c->exchange_hello();
        Message oob;
        oob.type = MessageType::Oob;
        oob.op = op;
        c->send_message(oob);
        const Message& peer = c->peer_hello();
        uint64_t va = peer.va + peer.length - 8;
        ibv_wr_opcode opcode = op == Op::Write ? IBV_WR_RDMA_WRITE : IBV_WR_RDMA_READ;
        c->post_send(opcode, c->local_mr(), c->local(), 16, va, peer.rkey, 0);
        c->wait_send(IBV_WC_REM_ACCESS_ERR);
        c->say(
            format("rdma-peer: out-of-bounds %s of 16 bytes at region end - 8: IBV_WC_REM_ACCESS_ERR ok", op_name(op)));
        rdma_disconnect(c->id());
        c->wait_disconnected(5);
    }
}

void run_client(const Options& options, rdma_event_channel* channel)
{
    if (options.oob) {
        run_oob_client(options, channel);
        return;
    }
    auto c = connect_client(options, channel);
    c->check_path_mtu();
    c->exchange_hello();
    drive_all(*c, options, "client", "client->server");
    c->send_message(Message { MessageType::Turn });
    MessageType end = respond(*c, "server->client");
    if (end != MessageType::Done)
        throw Failure(format("expected Done, got %s", message_type_name(end)));
    rdma_disconnect(c->id());
    c->wait_disconnected(5);
}

void run_server(const Options& options, rdma_event_channel* channel)
{
    rdma_cm_id* listener = nullptr;
    if (rdma_create_id(channel, &listener, nullptr, RDMA_PS_TCP))
        throw Failure("rdma_create_id failed");
    sockaddr_in address = parse_address(options.address, options.port);
    if (rdma_bind_addr(listener, reinterpret_cast<sockaddr*>(&address)))
        throw Failure(format("rdma_bind_addr port %d: %s", options.port, strerror(errno)));
    if (rdma_listen(listener, 4))
        throw Failure(format("rdma_listen: %s", strerror(errno)));
    printf("rdma-peer: listening on port %d\n", options.port);
    fflush(stdout);
    for (int served = 0; served < options.connections; ++served) {
        // The first client may still be booting: wait as long as asked.
        double wait = std::max(options.timeout, options.connect_timeout);
        auto c = accept_one(options, channel, wait);
        c->check_path_mtu();
        c->exchange_hello();
        MessageType end = respond(*c, "client->server");
        if (end == MessageType::Oob) {
            // The client's next operation breaks this connection on purpose.
            c->wait_disconnected(options.timeout);
            c->say("rdma-peer: out-of-bounds connection ended");
            continue;
        }
        if (end != MessageType::Turn)
            throw Failure(format("expected Turn, got %s", message_type_name(end)));
        drive_all(*c, options, "server", "server->client");
        c->send_message(Message { MessageType::Done });
        c->wait_disconnected(options.timeout);
    }
    rdma_destroy_id(listener);
}

[[noreturn]] void usage()
{
    fprintf(stderr,
        "usage: rdma-peer -s [-a BIND] [options]      serve\n"
        "       rdma-peer -c ADDRESS [options]        connect\n"
        "  -p PORT            RDMA CM port (RDMA_PS_TCP), default 20886\n"
        "  --sizes LIST       comma-separated byte counts (default 1..1MiB powers of two and odd sizes)\n"
        "  --ops LIST         send,write,write_imm,read (default all)\n"
        "  --region BYTES     remote-access region and receive buffer size (default 1048576)\n"
        "  --path-mtu N       fail unless the connection's path MTU is N (it follows eth0's MTU)\n"
        "  --oob              client: out-of-bounds WRITE and READ must fail with REM_ACCESS_ERR\n"
        "  --connect-timeout S  client: retry a refused/unreachable connect for S seconds (default 0)\n"
        "  --timeout S        any single wait (default 30)\n"
        "  --connections N    server: connections to serve (default 1; --oob clients make 2)\n"
        "  -q                 print only failures and the verdict\n");
    exit(2);
}

std::vector<uint32_t> parse_sizes(const std::string& text)
{
    std::vector<uint32_t> sizes;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find(',', start);
        std::string item = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
        char* rest = nullptr;
        unsigned long value = strtoul(item.c_str(), &rest, 0);
        if (item.empty() || *rest || value == 0 || value > (1ul << 30))
            throw Failure(format("bad size %s", item.c_str()));
        sizes.push_back(static_cast<uint32_t>(value));
        if (end == std::string::npos)
            break;
        start = end + 1;
    }
    return sizes;
}

std::vector<Op> parse_ops(const std::string& text)
{
    std::vector<Op> ops;
    size_t start = 0;
    for (;;) {
        size_t end = text.find(',', start);
        std::string item = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (item == "send")
            ops.push_back(Op::Send);
        else if (item == "write")
            ops.push_back(Op::Write);
        else if (item == "write_imm")
            ops.push_back(Op::WriteImm);
        else if (item == "read")
            ops.push_back(Op::Read);
        else
            throw Failure(format("bad op %s", item.c_str()));
        if (end == std::string::npos)
            return ops;
        start = end + 1;
    }
}

Options parse_options(int argc, char** argv)
{
    Options options;
    bool mode = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                usage();
            return argv[++i];
        };
        if (arg == "-s") {
            options.server = true;
            mode = true;
        } else if (arg == "-c") {
            options.address = value();
            mode = true;
        } else if (arg == "-a")
            options.address = value();
        else if (arg == "-p")
            options.port = atoi(value().c_str());
        else if (arg == "--sizes")
            options.sizes = parse_sizes(value());
        else if (arg == "--ops")
            options.ops = parse_ops(value());
        else if (arg == "--region")
            options.region = parse_sizes(value()).at(0);
        else if (arg == "--path-mtu")
            options.path_mtu = atoi(value().c_str());
        else if (arg == "--oob")
            options.oob = true;
        else if (arg == "--connect-timeout")
            options.connect_timeout = atof(value().c_str());
        else if (arg == "--timeout")
            options.timeout = atof(value().c_str());
        else if (arg == "--connections")
            options.connections = atoi(value().c_str());
        else if (arg == "-q")
            options.quiet = true;
        else
            usage();
    }
    if (!mode || (!options.server && options.address.empty()) || options.port <= 0 || options.port > 65535)
        usage();
    if (options.sizes.empty())
        options.sizes = default_sizes();
    for (uint32_t size : options.sizes) {
        if (size > options.region)
            throw Failure(format("size %u exceeds --region %u", size, options.region));
    }
    return options;
}

} // namespace

int main(int argc, char** argv)
{
    Clock::time_point start = Clock::now();
    try {
        Options options = parse_options(argc, argv);
        rdma_event_channel* channel = rdma_create_event_channel();
        if (!channel)
            throw Failure(format("rdma_create_event_channel: %s (is rdma_ucm loaded?)", strerror(errno)));
        if (options.server)
            run_server(options, channel);
        else
            run_client(options, channel);
        rdma_destroy_event_channel(channel);
    } catch (const Failure& failure) {
        printf("rdma-peer: FAIL %s\n", failure.what());
        return 1;
    }
    printf("rdma-peer: PASS (%.1f s)\n", seconds_since(start));
    return 0;
}
