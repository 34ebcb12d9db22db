// rping's server and client state machines (net/rdma/rping/lib) against each
// other over two RoCE engines joined by SimulatedLinks (rdma_pair.h), the
// QPs connected by hand: docs/wire/rdma-cm.md section 8, clean and lossy links,
// every size rping accepts, and the failures rping itself reports.
#include <net/rdma/cm/lib/rping_descriptor.h>
#include <net/rdma/rping/lib/rping_client_session.h>
#include <net/rdma/rping/lib/rping_server_session.h>
#include <rdma_pair.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>

using namespace tessera;
using namespace tessera::rdma::rping;
using namespace tessera::test::roce;
using tessera::test::LinkImpairments;

namespace {

// Endpoint a is the client, b the server.
struct RpingRun {
    explicit RpingRun(LinkImpairments impairments = {}, RpingClientOptions client_options = {},
        RpingServerOptions server_options = {})
        : pair(impairments, impairments, 4096)
    {
        ConnectOptions options;
        options.retry_cnt = 7; // rping's: retry for ever
        options.rnr_retry = 7;
        pair.connect(options);
        server = MUST(RpingServerSession::try_create(*pair.b.engine, *pair.b.pd, *pair.b.qp, server_options));
        client = MUST(RpingClientSession::try_create(*pair.a.engine, *pair.a.pd, *pair.a.qp, client_options));
        MUST(server->start());
        MUST(client->prepare());
    }

    void dispatch()
    {
        for (auto& wc : pair.a.drain())
            client->on_completion(wc);
        for (auto& wc : pair.b.drain())
            server->on_completion(wc);
    }

    // Until the client or the server has finished.
    bool run(uint64_t budget_ns = 600'000'000'000ull)
    {
        return pair.run_until(
            [&] {
                dispatch();
                return client->is_finished() || server->is_finished();
            },
            budget_ns);
    }

    // What the CM does at the end: both QPs to ERR (flushing the posted
    // receives), then Disconnected on both sides.
    void disconnect()
    {
        QpAttr attr;
        attr.qp_state = QpState::Err;
        MUST(pair.a.qp->modify(attr, qp_attr_state));
        MUST(pair.b.qp->modify(attr, qp_attr_state));
        pair.run_idle(1'000'000'000ull);
        dispatch();
        client->on_disconnected();
        server->on_disconnected();
    }

    RdmaPair pair;
    OwnPtr<RpingServerSession> server;
    OwnPtr<RpingClientSession> client;
};

void expect_pass(RpingRun& run, uint32_t count, uint32_t size)
{
    MUST(run.client->start());
    ASSERT_TRUE(run.run());
    const auto& client = run.client->result();
    ASSERT_EQ(client.status, RpingStatus::Pass) << client.reason;
    EXPECT_EQ(client.pings, count);
    EXPECT_EQ(client.size, size);
    run.disconnect();
    const auto& server = run.server->result();
    ASSERT_EQ(server.status, RpingStatus::Pass) << server.reason;
    EXPECT_EQ(server.pings, count);
    EXPECT_EQ(server.size, size);
    // The last ping came back whole: ping count-1's pattern.
    std::vector<uint8_t> expected(size);
    rdma::cm::fill_rping_pattern(count - 1, Span<uint8_t>(expected.data(), expected.size()));
    EXPECT_EQ(memcmp(run.client->rdma_buffer().data(), expected.data(), size), 0);
}

void send_raw(Endpoint& from, uint32_t length)
{
    from.buffer.assign(from.buffer.size(), 0x5A);
    MUST(from.qp->post_send(make_wr(77, WrOpcode::Send, from.sge(0, length))));
}

} // namespace

TEST(RpingSession, HundredPingsOf64Bytes)
{
    RpingRun run({}, { .count = 100, .size = 64 }, { .expected_count = 100 });
    expect_pass(run, 100, 64);
    // One receive reposted before every go-ahead: never an RNR NAK.
    EXPECT_EQ(run.pair.a.engine->counters().rnr_nak_sent, 0u);
    EXPECT_EQ(run.pair.b.engine->counters().rnr_nak_sent, 0u);
}

TEST(RpingSession, EverySizeClassUpTo65535)
{
    // rping's minimum (26), around one and several 1024-byte MTUs, and its maximum.
    for (uint32_t size : { 26u, 27u, 63u, 1023u, 1024u, 1025u, 4096u, 9000u, 65535u }) {
        SCOPED_TRACE(size);
        uint32_t count = size > 4096 ? 5 : 40;
        RpingRun run({}, { .count = count, .size = size });
        expect_pass(run, count, size);
    }
}

TEST(RpingSession, LossyLinkStillPasses)
{
    for (uint64_t seed : { 1u, 2u, 3u, 4u }) {
        SCOPED_TRACE(seed);
        LinkImpairments lossy { .loss = 0.05, .duplicate = 0.01, .reorder = 0.01, .seed = seed };
        RpingRun run(lossy, { .count = 100, .size = 64 }, { .expected_count = 100 });
        expect_pass(run, 100, 64);
        EXPECT_GT(run.pair.a_to_b().counters().lost + run.pair.b_to_a().counters().lost, 0u);
    }
    LinkImpairments lossy { .loss = 0.05, .seed = 9 };
    RpingRun run(lossy, { .count = 10, .size = 4096 });
    expect_pass(run, 10, 4096);
}

TEST(RpingSession, ServerCorruptingTheEchoIsCaughtByVerify)
{
    for (bool verify : { true, false }) {
        SCOPED_TRACE(verify);
        RpingRun run({}, { .count = 5, .size = 64, .verify = verify });
        MUST(run.client->start());
        // Ping 3: after the server's READ, before its WRITE, flip a byte.
        bool planted = false;
        ASSERT_TRUE(run.pair.run_until([&] {
            run.dispatch();
            if (!planted && run.server->result().pings == 3
                && run.server->state() == RpingServerSession::State::WaitWriteAdvert) {
                run.server->rdma_buffer()[20] ^= 0x01;
                planted = true;
            }
            return run.client->is_finished();
        }));
        ASSERT_TRUE(planted);
        const auto& result = run.client->result();
        if (verify) {
            EXPECT_EQ(result.status, RpingStatus::Fail);
            EXPECT_STREQ(result.reason, "data mismatch");
            EXPECT_EQ(result.pings, 3u);
        } else {
            // Without -V nothing is compared: the check above is what caught it.
            EXPECT_EQ(result.status, RpingStatus::Pass);
        }
    }
}

TEST(RpingSession, FifteenByteReceiveIsBogusData)
{
    for (uint32_t length : { 15u, 17u, 0u }) {
        SCOPED_TRACE(length);
        RpingRun run;
        send_raw(run.pair.a, length); // a client that sends a short descriptor
        ASSERT_TRUE(run.run());
        EXPECT_EQ(run.server->result().status, RpingStatus::Fail);
        EXPECT_STREQ(run.server->result().reason, "bogus data");
    }
}

TEST(RpingSession, ClientRefusesABogusGoAhead)
{
    RpingRun run;
    MUST(run.client->start());
    // The server's QP sends 15 bytes before the real go-ahead can arrive.
    send_raw(run.pair.b, 15);
    ASSERT_TRUE(run.run());
    EXPECT_EQ(run.client->result().status, RpingStatus::Fail);
    EXPECT_STREQ(run.client->result().reason, "bogus data");
}

TEST(RpingSession, ServerJudgesTheCountAndAnEarlyDisconnect)
{
    {
        RpingRun run({}, { .count = 7, .size = 64 }, { .expected_count = 8 });
        MUST(run.client->start());
        ASSERT_TRUE(run.run());
        EXPECT_EQ(run.client->result().status, RpingStatus::Pass);
        run.disconnect();
        EXPECT_EQ(run.server->result().status, RpingStatus::Fail);
        EXPECT_STREQ(run.server->result().reason, "wrong ping count");
    }
    {
        RpingRun run;
        run.disconnect(); // nobody pinged
        EXPECT_STREQ(run.server->result().reason, "disconnected before any ping");
        EXPECT_STREQ(run.client->result().reason, "disconnected during the run");
    }
}

TEST(RpingSession, DescriptorLargerThanTheServerBufferFails)
{
    RpingRun run({}, { .count = 1, .size = 128 }, { .buffer_size = 64 });
    MUST(run.client->start());
    ASSERT_TRUE(run.run());
    EXPECT_EQ(run.server->result().status, RpingStatus::Fail);
    EXPECT_STREQ(run.server->result().reason, "descriptor size out of range");
}

TEST(RpingSession, RemoteAccessErrorIsACompletionError)
{
    // A descriptor naming a key the client never registered: the READ fails.
    RpingRun run;
    std::vector<uint8_t> forged(16);
    rdma::cm::encode_rping_descriptor(
        { .address = 0x1000, .rkey = 0xdead00, .size = 64 }, Span<uint8_t>(forged.data(), forged.size()));
    memcpy(run.pair.a.buffer.data(), forged.data(), 16);
    MUST(run.pair.a.qp->post_send(make_wr(77, WrOpcode::Send, run.pair.a.sge(0, 16))));
    ASSERT_TRUE(run.run());
    const auto& result = run.server->result();
    EXPECT_EQ(result.status, RpingStatus::Fail);
    EXPECT_STREQ(result.reason, "completion error");
    EXPECT_TRUE(result.has_completion);
    EXPECT_EQ(result.completion_opcode, WcOpcode::RdmaRead);
    EXPECT_EQ(result.completion_status, WcStatus::RemAccessErr);
}

TEST(RpingSession, OptionsAreValidated)
{
    RdmaPair pair;
    auto& a = pair.a;
    EXPECT_TRUE(RpingClientSession::try_create(*a.engine, *a.pd, *a.qp, { .size = rping_min_size - 1 }).is_error());
    EXPECT_TRUE(RpingClientSession::try_create(*a.engine, *a.pd, *a.qp, { .size = rping_max_size + 1 }).is_error());
    EXPECT_TRUE(RpingClientSession::try_create(*a.engine, *a.pd, *a.qp, { .count = 0 }).is_error());
    EXPECT_TRUE(RpingServerSession::try_create(*a.engine, *a.pd, *a.qp, { .buffer_size = 10 }).is_error());
    auto client = MUST(RpingClientSession::try_create(*a.engine, *a.pd, *a.qp, { .size = rping_max_size }));
    EXPECT_EQ(client->state(), RpingClientSession::State::Idle);
}

TEST(RpingSession, ServerGivenASizeRefusesAnother)
{
    RpingRun run({}, { .count = 1, .size = 100 }, { .expected_size = 64 });
    MUST(run.client->start());
    ASSERT_TRUE(run.run());
    EXPECT_STREQ(run.server->result().reason, "wrong ping size");
}
