// RpcEndpoint over RoceRpcTransport: two RoceEngines joined by
// SimulatedLinks (rdma_pair.h), one RC QP each side connected by hand.
// Pings, zero-copy page fetch (RDMA WRITE then reply) and flush (RDMA READ
// then reply), 1/4/16 in flight, loss with duplication and reordering (the
// RC engine retransmits: exactly once), and a partitioned link (the QP runs
// out of retries: every pending call fails, the hook hears it, no hang).
#include <cstdio>
#include <gtest/gtest.h>
#include <memory>
#include <net/rpc/lib/roce_rpc_transport.h>
#include <rdma_pair.h>
#include <rpc_test_handlers.h>
#include <set>

using namespace tessera;
using namespace tessera::test;
using tessera::test::roce::ConnectOptions;
using tessera::test::roce::RdmaPair;

namespace {

constexpr uint64_t kUs = 1'000;
constexpr uint64_t kMs = 1'000'000;
constexpr uint32_t kPages = 16;
// Layout of each side's registered 1 MiB buffer (RdmaPair's MR, whose VA is
// not the pointer: the transport's VA translation is exercised).
constexpr size_t kStoreOffset = 0; // server: the page store, kPages pages
constexpr size_t kStagingOffset = 256 * 1024; // server: flush staging, one page per exchange slot
constexpr size_t kSlotsOffset = 0; // client: fetch destinations / flush sources, one page per slot

uint8_t store_byte(uint32_t page, size_t i, uint64_t version) { return static_cast<uint8_t>(page * 31 + i + version); }

// The memory monitor's side, over the server's registered buffer: fetch
// RDMA-WRITEs the page and replies at once (RC ordering places the reply
// after the data); flush RDMA-READs into staging and replies from
// rdma_completed() once the page is stored.
class RoceFetchHandler final : public RpcHandler {
public:
    explicit RoceFetchHandler(roce::Endpoint& side)
        : m_side(side)
    {
    }
    ErrorOr<void> validate(const RpcExchange& exchange) override
    {
        auto request = TRY(payload_as<PageFetchRequest>(exchange.payload()));
        TRY(protocol::validate(request));
        if (request.address_space != 1 || request.page_address + request.length > kPages * kPageSize)
            return Error(Errno::FAULT, "not mapped");
        return {};
    }
    void perform(RpcExchange& exchange) override
    {
        auto request = MUST(payload_as<PageFetchRequest>(exchange.payload()));
        Span<const uint8_t> page(m_side.buffer.data() + kStoreOffset + request.page_address, request.length);
        if (m_planted_reply_first) {
            // Planted: the reply is posted before the WRITE (which goes
            // behind the exchange's back, its completion a stray one).
            PageFetchReply reply { request.length, 0, 1 };
            exchange.reply(bytes_of(reply));
            (void)m_transport->rdma_write(0xABC, page, m_side.mr->lkey(), request.destination, exchange.now_ns());
            return;
        }
        if (exchange.rdma_write(page, m_side.mr->lkey(), request.destination).is_error()) {
            exchange.reply_error(Errno::IO);
            return;
        }
        ++performed;
        PageFetchReply reply { request.length, 0, 1 };
        exchange.reply(bytes_of(reply));
    }
    void plant_reply_before_write(RpcTransport& transport)
    {
        m_planted_reply_first = true;
        m_transport = &transport;
    }
    uint64_t performed { 0 };

private:
    roce::Endpoint& m_side;
    bool m_planted_reply_first { false };
    RpcTransport* m_transport { nullptr };
};

class RoceFlushHandler final : public RpcHandler {
public:
    explicit RoceFlushHandler(roce::Endpoint& side)
        : m_side(side)
    {
    }
    ErrorOr<void> validate(const RpcExchange& exchange) override
    {
        auto request = TRY(payload_as<PageFlushRequest>(exchange.payload()));
        TRY(protocol::validate(request));
        if (request.address_space != 1 || request.page_address + request.length > kPages * kPageSize
            || request.length != kPageSize)
            return Error(Errno::FAULT, "not mapped");
        return {};
    }
    void perform(RpcExchange& exchange) override
    {
        auto request = MUST(payload_as<PageFlushRequest>(exchange.payload()));
        size_t slot = m_next_staging++ % 64;
        m_staging_of[&exchange] = slot;
        Span<uint8_t> staging(m_side.buffer.data() + kStagingOffset + slot * kPageSize, kPageSize);
        if (exchange.rdma_read(request.source, staging, m_side.mr->lkey()).is_error()) {
            m_staging_of.erase(&exchange);
            exchange.reply_error(Errno::IO);
        }
    }
    void rdma_completed(RpcExchange& exchange, const ErrorOr<void>& result) override
    {
        size_t slot = m_staging_of[&exchange];
        m_staging_of.erase(&exchange);
        if (result.is_error()) {
            exchange.reply_error(Errno::IO);
            return;
        }
        auto request = MUST(payload_as<PageFlushRequest>(exchange.payload()));
        std::memcpy(m_side.buffer.data() + kStoreOffset + request.page_address,
            m_side.buffer.data() + kStagingOffset + slot * kPageSize, kPageSize);
        ++performed;
        PageFlushReply reply { request.length, 0, 2 };
        exchange.reply(bytes_of(reply));
    }
    uint64_t performed { 0 };

private:
    roce::Endpoint& m_side;
    std::map<RpcExchange*, size_t> m_staging_of;
    size_t m_next_staging { 0 };
};

struct RocePair {
    RdmaPair link;
    OwnPtr<RoceRpcTransport> client_transport;
    OwnPtr<RoceRpcTransport> server_transport;
    CountingFailureHook client_hook;
    CountingFailureHook server_hook;
    std::unique_ptr<RpcEndpoint> client;
    std::unique_ptr<RpcEndpoint> server;
    PingHandler ping;
    PingPageHandler ping_page;
    RoceFetchHandler fetch { link.b };
    RoceFlushHandler flush { link.b };
    RecordingCompletion done;
    bool drain_client { true }; // false only to plant a transport that misses QP errors

    RocePair(LinkImpairments a_to_b, LinkImpairments b_to_a, uint32_t window = 16, uint64_t timeout_ns = 10'000 * kMs,
        ConnectOptions options = {})
        : link(a_to_b, b_to_a)
    {
        link.connect(options);
        client_transport = MUST(RoceRpcTransport::try_create(
            *link.a.engine, *link.a.pd, *link.a.qp, *link.a.cq, *link.a.cq, { .window = window }));
        server_transport = MUST(RoceRpcTransport::try_create(
            *link.b.engine, *link.b.pd, *link.b.qp, *link.b.cq, *link.b.cq, { .window = 16 }));
        client = std::make_unique<RpcEndpoint>(
            RpcEndpointConfig { .local_node = 1, .peer_node = 2, .default_timeout_ns = timeout_ns, .window = window },
            *client_transport, &client_hook);
        server = std::make_unique<RpcEndpoint>(
            RpcEndpointConfig { .local_node = 2, .peer_node = 1, .default_timeout_ns = timeout_ns }, *server_transport,
            &server_hook);
        client_transport->attach(*client);
        server_transport->attach(*server);
        MUST(server->register_handler(Opcode::X2X_PING, ping));
        MUST(server->register_handler(Opcode::X2X_PING_PAGE, ping_page));
        MUST(server->register_handler(Opcode::P2M_PAGE_FETCH, fetch));
        MUST(server->register_handler(Opcode::P2M_PAGE_FLUSH, flush));
        for (uint32_t p = 0; p < kPages; ++p)
            for (size_t i = 0; i < kPageSize; ++i)
                link.b.buffer[kStoreOffset + p * kPageSize + i] = store_byte(p, i, 0);
    }
    uint64_t& now() { return link.now; }

    // One event: the earliest engine deadline, packet arrival or RPC
    // deadline; then the glue's work: engines, completions, endpoints.
    bool step(uint64_t limit_ns)
    {
        uint64_t next = std::min(
            { link.a.engine->next_deadline_ns(), link.b.engine->next_deadline_ns(), link.a_to_b().next_arrival_ns(),
                link.b_to_a().next_arrival_ns(), client->next_deadline_ns(), server->next_deadline_ns() });
        if (next == rdma::no_deadline || next > limit_ns)
            return false;
        uint64_t& t = link.now;
        t = std::max(t, next);
        // Completions are drained after every packet, as a glue that runs
        // its worker per received packet would: a reply that arrived before
        // its page would be seen before the page.
        for (auto& packet : link.a_to_b().deliver_due(t)) {
            link.b.engine->receive(Span<const uint8_t>(packet.data(), packet.size()), t);
            server_transport->drain_completions(t);
        }
        for (auto& packet : link.b_to_a().deliver_due(t)) {
            link.a.engine->receive(Span<const uint8_t>(packet.data(), packet.size()), t);
            if (drain_client)
                client_transport->drain_completions(t);
        }
        link.a.engine->poll(t);
        link.b.engine->poll(t);
        if (drain_client)
            client_transport->drain_completions(t);
        server_transport->drain_completions(t);
        client->poll(t);
        server->poll(t);
        return true;
    }
    // Until `done_when` holds (true), or nothing is left to happen (true:
    // quiet), or `limit_ns` of virtual time passed (false: a hang).
    template<typename Predicate>
    bool run_until(Predicate done_when, uint64_t budget_ns = 100'000 * kMs)
    {
        uint64_t limit = link.now + budget_ns;
        while (!done_when()) {
            if (!step(limit))
                return link.now <= limit && next_event() == rdma::no_deadline;
        }
        return true;
    }
    bool run_to_quiet(uint64_t budget_ns = 100'000 * kMs)
    {
        return run_until([] { return false; }, budget_ns);
    }
    uint64_t next_event()
    {
        return std::min(
            { link.a.engine->next_deadline_ns(), link.b.engine->next_deadline_ns(), link.a_to_b().next_arrival_ns(),
                link.b_to_a().next_arrival_ns(), client->next_deadline_ns(), server->next_deadline_ns() });
    }

    ErrorOr<uint64_t> ping_call(uint64_t sequence, Opcode opcode = Opcode::X2X_PING, uint64_t timeout_ns = 0)
    {
        auto request = make_ping(sequence);
        return client->call(opcode, bytes_of(request), done, link.now, timeout_ns);
    }
    RemoteBuffer client_slot(uint32_t slot)
    {
        return { link.a.va(kSlotsOffset + slot * kPageSize), link.a.mr->rkey(), kPageSize };
    }
    uint8_t* client_slot_bytes(uint32_t slot) { return link.a.buffer.data() + kSlotsOffset + slot * kPageSize; }
    const uint8_t* store_page(uint32_t page) const { return link.b.buffer.data() + kStoreOffset + page * kPageSize; }
    ErrorOr<uint64_t> fetch_call(uint32_t page, uint32_t slot)
    {
        std::memset(client_slot_bytes(slot), 0, kPageSize);
        PageFetchRequest request { 1, page * uint64_t(kPageSize), kPageSize, 0, client_slot(slot) };
        return client->call(Opcode::P2M_PAGE_FETCH, bytes_of(request), done, link.now);
    }
    ErrorOr<uint64_t> flush_call(uint32_t page, uint32_t slot, uint8_t fill)
    {
        std::memset(client_slot_bytes(slot), fill, kPageSize);
        PageFlushRequest request { 1, page * uint64_t(kPageSize), kPageSize, 0, client_slot(slot) };
        return client->call(Opcode::P2M_PAGE_FLUSH, bytes_of(request), done, link.now);
    }
};

LinkImpairments wire(uint64_t seed, double loss = 0, double duplicate = 0, double reorder = 0)
{
    return { .loss = loss,
        .duplicate = duplicate,
        .reorder = reorder,
        .delay_ns = 10 * kUs,
        .reorder_delay_ns = 30 * kUs,
        .seed = seed };
}

} // namespace

TEST(RpcRoce, PingSmallAndPageReplies)
{
    RocePair pair(wire(1), wire(2));
    uint64_t id = MUST(pair.ping_call(7));
    ASSERT_TRUE(pair.run_until([&] { return pair.done.results.size() == 1; }));
    uint64_t small_rtt = pair.now();
    ASSERT_EQ(pair.done.results[0].status, 0);
    EXPECT_EQ(pair.done.results[0].request_id, id);
    auto reply = MUST(payload_as<PingReply>({ pair.done.results[0].payload.data(), 4 }));
    EXPECT_EQ(reply.sequence_low, 7u);

    uint64_t start = pair.now();
    MUST(pair.ping_call(9, Opcode::X2X_PING_PAGE));
    ASSERT_TRUE(pair.run_until([&] { return pair.done.results.size() == 2; }));
    uint64_t page_rtt = pair.now() - start;
    ASSERT_EQ(pair.done.results[1].status, 0);
    ASSERT_EQ(pair.done.results[1].payload.size(), 4096u);
    for (size_t i = 0; i < 4096; ++i)
        ASSERT_EQ(pair.done.results[1].payload[i], static_cast<uint8_t>(9 + i));
    std::printf("rpc_roce round trip (virtual, 10 us links, MTU 1024): ping 32 B/4 B %.1f us, 32 B/4 KiB %.1f us\n",
        small_rtt / 1e3, page_rtt / 1e3);
    // The request and reply each cross a 10 us link once.
    EXPECT_GE(small_rtt, 20 * kUs);
    ASSERT_TRUE(pair.run_to_quiet());
    EXPECT_EQ(pair.client_transport->send_buffers_free(), pair.client_transport->send_buffers());
    EXPECT_EQ(pair.server_transport->send_buffers_free(), pair.server_transport->send_buffers());
    EXPECT_EQ(pair.link.a.qp->recv_queue_depth(), pair.client_transport->receive_buffers());
    EXPECT_TRUE(pair.client_hook.suspicions.empty());
}

TEST(RpcRoce, PageFetchIsWrittenBeforeTheReplyCompletes)
{
    RocePair pair(wire(3), wire(4));
    size_t checked = 0;
    pair.done.on_complete = [&](const RpcResult& result) {
        ASSERT_TRUE(result.ok()) << errno_name(result.error());
        // The page is in the buffer the moment the reply is seen.
        EXPECT_EQ(std::memcmp(pair.client_slot_bytes(3), pair.store_page(5), kPageSize), 0);
        ++checked;
    };
    MUST(pair.fetch_call(5, 3));
    ASSERT_TRUE(pair.run_to_quiet());
    EXPECT_EQ(checked, 1u);
    EXPECT_EQ(pair.fetch.performed, 1u);
    EXPECT_EQ(pair.server_transport->counters().rdma_completed, 1u);
    EXPECT_EQ(pair.server->serving(), 0u);
}

// Planted: the reply posted before the WRITE reaches the caller before the
// page; the same content check catches the stale buffer.
TEST(RpcRoce, PlantedReplyBeforeTheWriteIsCaught)
{
    RocePair pair(wire(3), wire(4));
    pair.fetch.plant_reply_before_write(*pair.server_transport);
    size_t stale = 0;
    pair.done.on_complete = [&](const RpcResult& result) {
        if (result.ok() && std::memcmp(pair.client_slot_bytes(3), pair.store_page(5), kPageSize) != 0)
            ++stale;
    };
    MUST(pair.fetch_call(5, 3));
    ASSERT_TRUE(pair.run_to_quiet());
    EXPECT_EQ(stale, 1u) << "the content check did not see the page missing";
    // The page does land afterwards; only its order was wrong.
    EXPECT_EQ(std::memcmp(pair.client_slot_bytes(3), pair.store_page(5), kPageSize), 0);
}

TEST(RpcRoce, PageFlushByRdmaRead)
{
    RocePair pair(wire(5), wire(6));
    MUST(pair.flush_call(9, 2, 0xC3));
    ASSERT_TRUE(pair.run_to_quiet());
    ASSERT_EQ(pair.done.count_status(0), 1u);
    for (size_t i = 0; i < kPageSize; ++i)
        ASSERT_EQ(pair.store_page(9)[i], 0xC3);
    EXPECT_EQ(pair.flush.performed, 1u);
    EXPECT_EQ(pair.server->serving(), 0u);
    EXPECT_EQ(pair.server_transport->rdma_outstanding(), 0u);
}

TEST(RpcRoce, FetchOutsideTheStoreIsAnErrorReply)
{
    RocePair pair(wire(5), wire(6));
    PageFetchRequest request { 1, 100 * uint64_t(kPageSize), kPageSize, 0, pair.client_slot(0) };
    MUST(pair.client->call(Opcode::P2M_PAGE_FETCH, bytes_of(request), pair.done, 0));
    ASSERT_TRUE(pair.run_to_quiet());
    ASSERT_EQ(pair.done.results.size(), 1u);
    EXPECT_EQ(pair.done.results[0].status, static_cast<int32_t>(Errno::FAULT));
    EXPECT_FALSE(pair.client_transport->failed());
}

namespace {

// `total` requests, a mix of pings, fetches and flushes, `window` kept in
// flight; every one must complete exactly once, successfully, fetched pages
// intact when their reply is seen.
struct MixedRun {
    uint64_t completed { 0 };
    uint64_t stale { 0 };
    uint64_t failures { 0 };
    uint64_t duplicates { 0 };
    uint64_t virtual_ns { 0 };
};

MixedRun run_mixed(RocePair& pair, uint32_t window, uint64_t total)
{
    MixedRun run;
    uint64_t issued = 0;
    std::map<uint64_t, std::pair<int, uint32_t>> kind_of; // id -> (0 ping, 1 fetch, 2 flush; slot)
    std::set<uint64_t> seen;
    std::vector<uint32_t> free_slots;
    for (uint32_t s = 0; s < window; ++s)
        free_slots.push_back(s);
    uint64_t start = pair.now();
    auto issue = [&] {
        uint32_t slot = free_slots.back();
        free_slots.pop_back();
        int kind = static_cast<int>(issued % 3);
        uint64_t id = 0;
        if (kind == 0)
            id = MUST(pair.ping_call(issued));
        else if (kind == 1)
            id = MUST(pair.fetch_call(static_cast<uint32_t>(issued % kPages), slot));
        else
            // Flushes write pages the fetches never read (upper half).
            id = MUST(pair.flush_call(
                kPages / 2 + static_cast<uint32_t>(issued % (kPages / 2)), slot, static_cast<uint8_t>(issued)));
        kind_of[id] = { kind, slot };
        ++issued;
    };
    pair.done.on_complete = [&](const RpcResult& result) {
        if (!seen.insert(result.request_id).second)
            ++run.duplicates;
        ++run.completed;
        if (!result.ok())
            ++run.failures;
        auto [kind, slot] = kind_of[result.request_id];
        if (kind == 1) {
            uint64_t fetched_page = (result.request_id - 1) % kPages;
            if (fetched_page < kPages / 2
                && std::memcmp(
                       pair.client_slot_bytes(slot), pair.store_page(static_cast<uint32_t>(fetched_page)), kPageSize)
                    != 0)
                ++run.stale;
        }
        free_slots.push_back(slot);
        if (issued < total)
            issue();
    };
    while (issued < window && issued < total)
        issue();
    EXPECT_TRUE(pair.run_until([&] { return run.completed == total; }));
    run.virtual_ns = pair.now() - start;
    EXPECT_TRUE(pair.run_to_quiet());
    return run;
}

} // namespace

TEST(RpcRoce, OneFourAndSixteenInFlight)
{
    for (uint32_t window : { 1u, 4u, 16u }) {
        RocePair pair(wire(7), wire(8), window);
        MixedRun run = run_mixed(pair, window, 300);
        EXPECT_EQ(run.completed, 300u) << "window " << window;
        EXPECT_EQ(run.failures, 0u);
        EXPECT_EQ(run.duplicates, 0u);
        EXPECT_EQ(run.stale, 0u);
        EXPECT_EQ(pair.ping.performed, 100u);
        EXPECT_EQ(pair.fetch.performed, 100u);
        EXPECT_EQ(pair.flush.performed, 100u);
        EXPECT_EQ(pair.client->in_flight(), 0u);
        EXPECT_EQ(pair.client_transport->counters().send_buffer_exhausted, 0u);
        std::printf("rpc_roce mixed ping/fetch/flush window=%u: %.0f requests/s (virtual), %.1f us per request\n",
            window, 300 * 1e9 / static_cast<double>(run.virtual_ns), run.virtual_ns / 300.0 / 1e3);
    }
}

TEST(RpcRoce, LossDuplicationAndReorderingCompleteExactlyOnce)
{
    for (double loss : { 0.01, 0.10 }) {
        RocePair pair(wire(11, loss, 0.02, 0.05), wire(12, loss, 0.02, 0.05), 16);
        MixedRun run = run_mixed(pair, 16, 600);
        EXPECT_EQ(run.completed, 600u) << "loss " << loss;
        EXPECT_EQ(run.failures, 0u);
        EXPECT_EQ(run.duplicates, 0u);
        EXPECT_EQ(run.stale, 0u);
        // Executed exactly once each, though the wire lost, doubled and
        // reordered packets: the RC engine retransmitted and dropped repeats.
        EXPECT_EQ(pair.ping.performed, 200u);
        EXPECT_EQ(pair.fetch.performed, 200u);
        EXPECT_EQ(pair.flush.performed, 200u);
        EXPECT_EQ(pair.server->counters().duplicate_requests, 0u);
        const auto& ca = pair.link.a.engine->counters();
        const auto& cb = pair.link.b.engine->counters();
        EXPECT_GT(ca.retries + cb.retries, 0u);
        EXPECT_GT(pair.link.a_to_b().counters().lost + pair.link.b_to_a().counters().lost, 0u);
        EXPECT_GT(pair.link.a_to_b().counters().duplicated + pair.link.b_to_a().counters().duplicated, 0u);
        EXPECT_TRUE(pair.client_hook.suspicions.empty());
        EXPECT_FALSE(pair.client_transport->failed());
        std::printf("rpc_roce loss=%.0f%%: 600 requests in %.1f ms (virtual), %llu packets retransmitted\n", loss * 100,
            run.virtual_ns / 1e6, static_cast<unsigned long long>(ca.retries + cb.retries));
    }
}

namespace {

// The link is cut with `pending` requests in flight; returns the pair for
// the caller's checks.
void cut_with_pending(RocePair& pair, int pending)
{
    MUST(pair.ping_call(0));
    ASSERT_TRUE(pair.run_until([&] { return pair.done.results.size() == 1; }));
    pair.link.a_to_b().set_partitioned(true);
    pair.link.b_to_a().set_partitioned(true);
    for (int i = 1; i <= pending; ++i) {
        if (i % 2)
            MUST(pair.ping_call(i));
        else
            MUST(pair.fetch_call(static_cast<uint32_t>(i), static_cast<uint32_t>(i)));
    }
}

} // namespace

TEST(RpcRoce, PartitionedLinkFailsEveryPendingCallWithinTheRetryBudget)
{
    // Retransmit timeout 4.096 us << 10 = 4.2 ms, retry_cnt 6: the QP gives
    // up after 7 timeouts, ~29 ms, long before the calls' 1 s deadline.
    RocePair pair(wire(13), wire(14), 16, 1000 * kMs);
    cut_with_pending(pair, 8);
    uint64_t cut_at = pair.now();
    ASSERT_TRUE(pair.run_to_quiet(2000 * kMs)) << "hang";
    uint64_t failed_after = pair.now() - cut_at;
    ASSERT_EQ(pair.done.results.size(), 9u);
    EXPECT_EQ(pair.done.count_status(static_cast<int32_t>(Errno::CONNRESET)), 8u);
    EXPECT_LT(failed_after, 100 * kMs);
    EXPECT_GT(failed_after, 20 * kMs); // it did wait for the retries
    EXPECT_TRUE(pair.client_transport->failed());
    EXPECT_EQ(pair.client_transport->failure_reason(), Errno::TIMEDOUT);
    EXPECT_EQ(pair.link.a.qp->state(), rdma::QpState::Err);
    ASSERT_EQ(pair.client_hook.suspicions.size(), 1u);
    EXPECT_EQ(pair.client_hook.suspicions[0], std::make_pair(2u, Errno::TIMEDOUT));
    // New calls fail at once; posts on the failed transport say NOTCONN.
    EXPECT_EQ(pair.ping_call(99).error().code(), Errno::CONNRESET);
    auto bytes = make_ping(1);
    EXPECT_EQ(pair.client_transport->send(bytes_of(bytes), pair.now()).error().code(), Errno::NOTCONN);
    EXPECT_EQ(pair.client->in_flight(), 0u);
    std::printf("rpc_roce partition: 8 pending calls failed %.1f ms (virtual) after the cut\n", failed_after / 1e6);
}

// Planted: a glue that never drains the CQ misses RETRY_EXC_ERR; the calls
// then end only at their deadline with ETIMEDOUT, which the checks above
// (CONNRESET, within the retry budget) tell apart.
TEST(RpcRoce, PlantedMissedQpErrorIsCaught)
{
    RocePair pair(wire(13), wire(14), 16, 1000 * kMs);
    cut_with_pending(pair, 8);
    uint64_t cut_at = pair.now();
    pair.drain_client = false;
    ASSERT_TRUE(pair.run_to_quiet(2000 * kMs));
    EXPECT_EQ(pair.done.count_status(static_cast<int32_t>(Errno::CONNRESET)), 0u);
    EXPECT_EQ(pair.done.count_status(static_cast<int32_t>(Errno::TIMEDOUT)), 8u);
    EXPECT_GE(pair.now() - cut_at, 1000 * kMs - 1 * kMs);
    EXPECT_EQ(pair.link.a.qp->state(), rdma::QpState::Err); // the QP did fail; nobody listened
    // The failure is seen as soon as the glue drains again.
    pair.client_transport->drain_completions(pair.now());
    EXPECT_TRUE(pair.client_transport->failed());
}

TEST(RpcRoce, RemoteAccessErrorOnTheWriteFailsTheConnectionNotAStaleSuccess)
{
    RocePair pair(wire(15), wire(16));
    // A destination the client never registered for remote write: the
    // responder NAKs the WRITE, the server's QP goes to error, its reply is
    // flushed; the client sees its QP fail or the call time out, never ok.
    RemoteBuffer bogus = pair.client_slot(0);
    bogus.rkey ^= 0x5A;
    PageFetchRequest request { 1, 0, kPageSize, 0, bogus };
    MUST(pair.client->call(Opcode::P2M_PAGE_FETCH, bytes_of(request), pair.done, 0, 200 * kMs));
    ASSERT_TRUE(pair.run_to_quiet(2000 * kMs));
    ASSERT_EQ(pair.done.results.size(), 1u);
    EXPECT_NE(pair.done.results[0].status, 0);
    EXPECT_TRUE(pair.server_transport->failed());
    EXPECT_EQ(pair.server_transport->failure_reason(), Errno::REMOTEIO);
    ASSERT_EQ(pair.server_hook.suspicions.size(), 1u);
    EXPECT_EQ(pair.server_hook.suspicions[0], std::make_pair(1u, Errno::REMOTEIO));
}

TEST(RpcRoce, RejectsAQpThatIsNotReadyAndLocalBytesOutsideTheRegion)
{
    RdmaPair link;
    auto unready = RoceRpcTransport::try_create(*link.a.engine, *link.a.pd, *link.a.qp, *link.a.cq, *link.a.cq, {});
    EXPECT_EQ(unready.error().code(), Errno::INVAL); // RESET: receives cannot be posted
    link.connect();
    auto transport
        = MUST(RoceRpcTransport::try_create(*link.a.engine, *link.a.pd, *link.a.qp, *link.a.cq, *link.a.cq, {}));
    EXPECT_EQ(link.a.qp->recv_queue_depth(), 32u);
    uint8_t outside[64] {};
    RemoteBuffer remote { link.b.va(), link.b.mr->rkey(), 64 };
    EXPECT_EQ(transport->rdma_write(1, { outside, 64 }, link.a.mr->lkey(), remote, 0).error().code(), Errno::FAULT);
    EXPECT_EQ(transport->rdma_write(1, { link.a.buffer.data(), 64 }, 0, remote, 0).error().code(), Errno::INVAL);
    EXPECT_EQ(transport->rdma_write(1, { link.a.buffer.data(), 128 }, link.a.mr->lkey(), remote, 0).error().code(),
        Errno::MSGSIZE);
    MUST(transport->rdma_write(1, { link.a.buffer.data() + 8, 64 }, link.a.mr->lkey(), remote, 0));
    EXPECT_EQ(transport->rdma_outstanding(), 1u);
}
