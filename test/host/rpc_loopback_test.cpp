// RpcEndpoint over the loopback transport: two co-located roles.
#include <gtest/gtest.h>
#include <net/rpc/lib/loopback_transport.h>
#include <rpc_test_handlers.h>

using namespace tessera;
using namespace tessera::test;

namespace {

struct LoopbackPair {
    MemoryRegionTable memory;
    LoopbackLink link { memory };
    CountingFailureHook client_hook;
    CountingFailureHook server_hook;
    RpcEndpoint client { { .local_node = 1, .peer_node = 2, .default_timeout_ns = 1'000'000 }, link.first(),
        &client_hook };
    RpcEndpoint server { { .local_node = 2, .peer_node = 1 }, link.second(), &server_hook };
    PingHandler ping;
    PingPageHandler ping_page;
    PageStore store { 8 };
    PageFetchHandler fetch { store };
    PageFlushHandler flush { store };
    RecordingCompletion done;

    LoopbackPair()
    {
        MUST(server.register_handler(Opcode::X2X_PING, ping));
        MUST(server.register_handler(Opcode::X2X_PING_PAGE, ping_page));
        MUST(server.register_handler(Opcode::P2M_PAGE_FETCH, fetch));
        MUST(server.register_handler(Opcode::P2M_PAGE_FLUSH, flush));
    }
    uint64_t ping_call(uint64_t sequence, uint64_t now = 0)
    {
        auto request = make_ping(sequence);
        return MUST(client.call(Opcode::X2X_PING, bytes_of(request), done, now));
    }
};

} // namespace

TEST(RpcLoopback, PingRoundTripCarriesIdAndStatus)
{
    LoopbackPair pair;
    uint64_t id = pair.ping_call(0xABCD);
    EXPECT_EQ(id, 1u);
    EXPECT_TRUE(pair.done.results.empty()); // never from inside call()
    pair.link.run(0);
    ASSERT_EQ(pair.done.results.size(), 1u);
    const auto& result = pair.done.results[0];
    EXPECT_EQ(result.request_id, id);
    EXPECT_EQ(result.status, 0);
    EXPECT_EQ(result.origin, RpcOrigin::Peer);
    EXPECT_EQ(MUST(payload_as<PingReply>({ result.payload.data(), result.payload.size() })).sequence_low, 0xABCDu);
    EXPECT_EQ(pair.client.in_flight(), 0u);
    EXPECT_EQ(pair.server.serving(), 0u);
}

TEST(RpcLoopback, PingPageReplyIsFourKilobytes)
{
    LoopbackPair pair;
    auto request = make_ping(3);
    MUST(pair.client.call(Opcode::X2X_PING_PAGE, bytes_of(request), pair.done, 0));
    pair.link.run(0);
    ASSERT_EQ(pair.done.results.size(), 1u);
    ASSERT_EQ(pair.done.results[0].payload.size(), 4096u);
    EXPECT_EQ(pair.done.results[0].payload[4095], static_cast<uint8_t>(3 + 4095));
}

TEST(RpcLoopback, ValidationErrorAndMissingHandlerAreReplies)
{
    LoopbackPair pair;
    uint8_t buffer[4096];
    auto dest = MUST(pair.memory.register_region({ buffer, sizeof(buffer) }, RegionAccessRemoteWrite));
    PageFetchRequest bad_space { 9, 0, 4096, 0, dest };
    PageFetchRequest unaligned { 1, 100, 4096, 0, dest };
    MUST(pair.client.call(Opcode::P2M_PAGE_FETCH, bytes_of(bad_space), pair.done, 0));
    MUST(pair.client.call(Opcode::P2M_PAGE_FETCH, bytes_of(unaligned), pair.done, 0));
    HeartbeatRequest beat { 1, 0, NodeRoleMemory, 0, 0 };
    MUST(pair.client.call(Opcode::X2G_HEARTBEAT, bytes_of(beat), pair.done, 0)); // nobody serves it here
    pair.link.run(0);
    ASSERT_EQ(pair.done.results.size(), 3u);
    EXPECT_EQ(pair.done.results[0].status, static_cast<int32_t>(Errno::SRCH));
    EXPECT_EQ(pair.done.results[1].status, static_cast<int32_t>(Errno::INVAL));
    EXPECT_EQ(pair.done.results[2].status, static_cast<int32_t>(Errno::NOSYS));
    for (const auto& r : pair.done.results)
        EXPECT_EQ(r.origin, RpcOrigin::Peer);
    EXPECT_EQ(pair.server.counters().error_replies, 3u);
}

TEST(RpcLoopback, CallRefusesBadShapesWithoutCompleting)
{
    LoopbackPair pair;
    PingReply wrong {};
    EXPECT_EQ(pair.client.call(Opcode::X2X_PING, bytes_of(wrong), pair.done, 0).error().code(), Errno::BADMSG);
    EXPECT_EQ(pair.client.call(static_cast<Opcode>(0x4444), {}, pair.done, 0).error().code(), Errno::NOSYS);
    pair.link.run(0);
    EXPECT_TRUE(pair.done.results.empty());
    EXPECT_EQ(pair.client.in_flight(), 0u);
}

TEST(RpcLoopback, WindowBoundsRequestsInFlight)
{
    LoopbackPair pair;
    for (int i = 0; i < 16; ++i)
        pair.ping_call(i);
    auto request = make_ping(99);
    EXPECT_EQ(pair.client.call(Opcode::X2X_PING, bytes_of(request), pair.done, 0).error().code(), Errno::AGAIN);
    EXPECT_EQ(pair.client.in_flight(), 16u);
    pair.link.run(0);
    EXPECT_EQ(pair.done.count_status(0), 16u);
    EXPECT_EQ(pair.client.in_flight(), 0u);
}

TEST(RpcLoopback, ManyRequestsInFlightEachCompletesOnce)
{
    LoopbackPair pair;
    uint64_t issued = 0;
    pair.done.on_complete = [&](const RpcResult& result) {
        EXPECT_TRUE(result.ok());
        if (issued < 5000) {
            auto request = make_ping(issued++);
            MUST(pair.client.call(Opcode::X2X_PING, bytes_of(request), pair.done, 0));
        }
    };
    while (issued < 16) {
        auto request = make_ping(issued++);
        MUST(pair.client.call(Opcode::X2X_PING, bytes_of(request), pair.done, 0));
    }
    pair.link.run(0);
    EXPECT_EQ(pair.done.results.size(), 5000u);
    EXPECT_EQ(pair.ping.performed, 5000u);
    std::vector<bool> seen(5001, false);
    for (const auto& r : pair.done.results) {
        ASSERT_LE(r.request_id, 5000u);
        EXPECT_FALSE(seen[r.request_id]);
        seen[r.request_id] = true;
        // The reply is the one for this request: ids were issued in order.
        EXPECT_EQ(MUST(payload_as<PingReply>({ r.payload.data(), r.payload.size() })).sequence_low, r.request_id - 1);
    }
}

TEST(RpcLoopback, PageFetchIsWrittenIntoTheRegisteredBufferBeforeTheReply)
{
    LoopbackPair pair;
    std::vector<uint8_t> buffer(2 * 4096, 0);
    auto dest = MUST(pair.memory.register_region({ buffer.data(), buffer.size() }, RegionAccessRemoteWrite));
    PageFetchRequest request { 1, 3 * 4096, 8192, 0, dest };
    bool checked = false;
    pair.done.on_complete = [&](const RpcResult& result) {
        ASSERT_TRUE(result.ok());
        // At the moment the reply arrives, the data is already there.
        for (size_t i = 0; i < 8192; ++i)
            ASSERT_EQ(buffer[i], *pair.store.at(3 * 4096 + i));
        checked = true;
    };
    MUST(pair.client.call(Opcode::P2M_PAGE_FETCH, bytes_of(request), pair.done, 0));
    pair.link.run(0);
    EXPECT_TRUE(checked);
    auto reply = MUST(payload_as<PageFetchReply>({ pair.done.results[0].payload.data(), 16 }));
    EXPECT_EQ(reply.length, 8192u);
    EXPECT_EQ(pair.server.serving(), 0u); // released once the WRITE completed
}

TEST(RpcLoopback, PageFlushReadsTheDirtyPageThenReplies)
{
    LoopbackPair pair;
    std::vector<uint8_t> dirty(4096, 0x5A);
    auto source = MUST(pair.memory.register_region({ dirty.data(), dirty.size() }, RegionAccessRemoteRead));
    PageFlushRequest request { 1, 2 * 4096, 4096, 0, source };
    MUST(pair.client.call(Opcode::P2M_PAGE_FLUSH, bytes_of(request), pair.done, 0));
    pair.link.run(0);
    ASSERT_EQ(pair.done.results.size(), 1u);
    ASSERT_EQ(pair.done.results[0].status, 0);
    auto reply = MUST(payload_as<PageFlushReply>({ pair.done.results[0].payload.data(), 16 }));
    EXPECT_EQ(reply.version, 2u);
    EXPECT_EQ(*pair.store.at(2 * 4096 + 100), 0x5A);
}

TEST(RpcLoopback, RemoteAccessErrorFailsTheLinkAndEveryRequest)
{
    LoopbackPair pair;
    std::vector<uint8_t> buffer(4096);
    auto dest = MUST(pair.memory.register_region({ buffer.data(), buffer.size() }, RegionAccessRemoteRead));
    // The buffer forbids remote writes: the WRITE fails as on a real NIC.
    PageFetchRequest request { 1, 0, 4096, 0, dest };
    pair.ping_call(1);
    MUST(pair.client.call(Opcode::P2M_PAGE_FETCH, bytes_of(request), pair.done, 0));
    pair.link.run(0);
    EXPECT_TRUE(pair.link.failed());
    EXPECT_EQ(pair.done.results.size(), 2u);
    EXPECT_EQ(pair.done.results[1].status, static_cast<int32_t>(Errno::CONNRESET));
    EXPECT_EQ(pair.done.results[1].origin, RpcOrigin::PeerFailed);
    ASSERT_EQ(pair.client_hook.suspicions.size(), 1u);
    EXPECT_EQ(pair.client_hook.suspicions[0].first, 2u);
    EXPECT_EQ(pair.client_hook.suspicions[0].second, Errno::REMOTEIO);
    // New requests fail at once.
    auto ping = make_ping(2);
    EXPECT_EQ(pair.client.call(Opcode::X2X_PING, bytes_of(ping), pair.done, 0).error().code(), Errno::CONNRESET);
}

TEST(RpcLoopback, TimeoutReportsCallerAndHookThenDropsTheLateReply)
{
    LoopbackPair pair;
    uint64_t id = pair.ping_call(1, 0);
    EXPECT_EQ(pair.client.next_deadline_ns(), 1'000'000u);
    pair.client.poll(999'999);
    EXPECT_TRUE(pair.done.results.empty());
    pair.client.poll(1'000'000);
    ASSERT_EQ(pair.done.results.size(), 1u);
    EXPECT_EQ(pair.done.results[0].request_id, id);
    EXPECT_EQ(pair.done.results[0].status, static_cast<int32_t>(Errno::TIMEDOUT));
    EXPECT_EQ(pair.done.results[0].origin, RpcOrigin::Timeout);
    ASSERT_EQ(pair.client_hook.suspicions.size(), 1u);
    EXPECT_EQ(pair.client_hook.suspicions[0], std::make_pair(2u, Errno::TIMEDOUT));
    // The server answers late: dropped and counted, no second completion.
    pair.link.run(2'000'000);
    EXPECT_EQ(pair.done.results.size(), 1u);
    EXPECT_EQ(pair.client.counters().late_replies, 1u);
    EXPECT_EQ(pair.client.next_deadline_ns(), UINT64_MAX);
}

TEST(RpcLoopback, FailPeerFailsPendingAndNewRequests)
{
    LoopbackPair pair;
    pair.ping_call(1);
    pair.ping_call(2);
    pair.client.fail_peer(Errno::HOSTDOWN, 0);
    EXPECT_EQ(pair.done.count_status(static_cast<int32_t>(Errno::HOSTDOWN)), 2u);
    auto ping = make_ping(3);
    EXPECT_EQ(pair.client.call(Opcode::X2X_PING, bytes_of(ping), pair.done, 0).error().code(), Errno::HOSTDOWN);
    pair.link.run(0); // the replies that were already on their way are ignored
    EXPECT_EQ(pair.done.results.size(), 2u);
    EXPECT_TRUE(pair.client_hook.suspicions.empty()); // the detector itself decided
}

TEST(RpcLoopback, ForgedMessagesAreDroppedOrAnswered)
{
    LoopbackPair pair;
    std::vector<uint8_t> out(kMaxMessageSize);
    auto ping = make_ping(1);
    // From the wrong node: dropped without an answer.
    size_t size
        = MUST(encode_message(request_header(Opcode::X2X_PING, 1, 77), bytes_of(ping), { out.data(), out.size() }));
    MUST(pair.link.first().send({ out.data(), size }, 0));
    // A readable header with a lying length: answered with the errno.
    size = MUST(encode_message(request_header(Opcode::X2X_PING, 2, 1), bytes_of(ping), { out.data(), out.size() }));
    MUST(pair.link.first().send({ out.data(), size - 1 }, 0));
    // A reply nobody asked for.
    MessageHeader request = request_header(Opcode::X2X_PING, 900, 1);
    size = MUST(encode_message(reply_header(request, 2, 0), bytes_of(PingReply {}), { out.data(), out.size() }));
    MUST(pair.link.second().send({ out.data(), size }, 0));
    pair.link.run(0);
    EXPECT_EQ(pair.server.counters().wrong_source, 1u);
    EXPECT_EQ(pair.server.counters().malformed_messages, 1u);
    EXPECT_EQ(pair.server.counters().error_replies, 1u);
    EXPECT_EQ(pair.ping.performed, 0u);
    EXPECT_EQ(pair.client.counters().unknown_replies, 2u); // the forged one and the error answer to id 2
}

namespace {

class ForgetfulHandler final : public RpcHandler {
public:
    ErrorOr<void> validate(const RpcExchange&) override { return {}; }
    void perform(RpcExchange&) override { }
};

} // namespace

// Planted bug: a handler that never answers. The endpoint answers EIO for
// it instead of leaving the caller to time out.
TEST(RpcLoopback, HandlerThatForgetsToReplyIsAnsweredEio)
{
    MemoryRegionTable memory;
    LoopbackLink link(memory);
    RpcEndpoint client({ .local_node = 1, .peer_node = 2 }, link.first(), nullptr);
    RpcEndpoint server({ .local_node = 2, .peer_node = 1 }, link.second(), nullptr);
    ForgetfulHandler forgetful;
    MUST(server.register_handler(Opcode::X2X_PING, forgetful));
    EXPECT_EQ(server.register_handler(Opcode::X2X_PING, forgetful).error().code(), Errno::EXIST);
    RecordingCompletion done;
    auto ping = make_ping(1);
    MUST(client.call(Opcode::X2X_PING, bytes_of(ping), done, 0));
    link.run(0);
    ASSERT_EQ(done.results.size(), 1u);
    EXPECT_EQ(done.results[0].status, static_cast<int32_t>(Errno::IO));
    EXPECT_EQ(server.counters().missing_replies, 1u);
}
