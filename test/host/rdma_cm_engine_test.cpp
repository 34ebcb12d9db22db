// Two CmEngines over a simulated cable: connect, accept, disconnect; a REQ
// for a closed port gets REJ 8; each lost message is retransmitted and the
// connection still comes up exactly once; duplicates are answered as Linux
// answers them; timers run out as docs/wire/rdma-cm.md 6.5 says.
#include "support/cm_test_harness.h"

#include <gtest/gtest-spi.h>

using namespace tessera;
using namespace tessera::test;
using Bytes = std::vector<uint8_t>;

namespace {

// Both sides saw the connection come up exactly once, over QPs that point
// at each other with crossed PSNs (6.6). One result, so a planted failure
// shows as exactly one failed expectation.
::testing::AssertionResult connected_once(const CmPair& pair)
{
    auto fail = [](const char* what) { return ::testing::AssertionFailure() << what; };
    if (pair.a.count(CmEventType::ConnectRequest) != 1)
        return fail("A: not exactly one ConnectRequest");
    if (pair.a.count(CmEventType::Established) != 1)
        return fail("A: not Established exactly once");
    if (pair.b.count(CmEventType::Established) != 1)
        return fail("B: not Established exactly once");
    const CmEvent* a = pair.a.last(CmEventType::Established);
    const CmEvent* b = pair.b.last(CmEventType::Established);
    const FakeQp& qa = pair.a.qp_ops.qps.at(a->qpn);
    const FakeQp& qb = pair.b.qp_ops.qps.at(b->qpn);
    if (qa.state != FakeQp::State::Rts || qb.state != FakeQp::State::Rts)
        return fail("a QP is not RTS");
    if (qa.rtr.dest_qpn != b->qpn || qb.rtr.dest_qpn != a->qpn)
        return fail("QPs do not point at each other");
    if (qa.rts.sq_psn != qb.rtr.rq_psn || qb.rts.sq_psn != qa.rtr.rq_psn)
        return fail("PSNs not crossed");
    if (!(qa.rtr.destination == CmPair::ip_b) || !(qb.rtr.destination == CmPair::ip_a))
        return fail("wrong destinations");
    if (qa.rtr.flow_label != qb.rtr.flow_label || qa.rtr.path_mtu != 3)
        return fail("flow label or MTU differ");
    return ::testing::AssertionSuccess();
}

void expect_connected_once(const CmPair& pair) { EXPECT_TRUE(connected_once(pair)); }

void expect_disconnected_once(const CmPair& pair)
{
    EXPECT_EQ(pair.a.count(CmEventType::Disconnected), 1u);
    EXPECT_EQ(pair.b.count(CmEventType::Disconnected), 1u);
}

} // namespace

TEST(RdmaCmEngine, ConnectAcceptDisconnect)
{
    CmPair pair;
    ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
    EXPECT_EQ(pair.a.engine->listen(20001).error().code(), Errno::ADDRINUSE);
    CmConnectionId id = pair.connect();
    pair.run_for(100 * ms);
    expect_connected_once(pair);
    EXPECT_EQ(pair.b.engine->state_of(id), CmState::Established);
    // One REQ, one REP, one RTU, nothing retransmitted.
    EXPECT_EQ(pair.b.sink.count(CmAttribute::Req), 1u);
    EXPECT_EQ(pair.a.sink.count(CmAttribute::Rep), 1u);
    EXPECT_EQ(pair.b.sink.count(CmAttribute::Rtu), 1u);
    EXPECT_EQ(pair.a.engine->counters().retransmits + pair.b.engine->counters().retransmits, 0u);
    // REQ, REP and RTU carry the REQ's TID, formed as Linux does (3.2).
    uint64_t tid = form_tid(id);
    for (const auto* sent : { &pair.b.sink.sent[0], &pair.a.sink.sent[0], &pair.b.sink.sent[1] }) {
        uint64_t got = 0;
        for (size_t i = 8; i < 16; ++i)
            got = got << 8 | (*sent)[i];
        EXPECT_EQ(got, tid);
    }
    const CmEvent* request = pair.a.last(CmEventType::ConnectRequest);
    ASSERT_NE(request, nullptr);
    EXPECT_EQ(request->peer, CmPair::ip_b);
    EXPECT_EQ(request->peer_port, 44462);
    EXPECT_EQ(request->local_port, 20001);
    EXPECT_EQ(request->private_data_size, 56);

    ASSERT_FALSE(pair.b.engine->disconnect(id, pair.now).is_error());
    pair.run_for(100 * ms);
    expect_disconnected_once(pair);
    EXPECT_EQ(pair.b.qp_ops.qps.begin()->second.state, FakeQp::State::Error);
    EXPECT_EQ(pair.b.engine->state_of(id), CmState::Timewait);
    // Timewait is 2^(19-8) ms; then everything is freed, QPs destroyed.
    pair.run_for(2100 * ms);
    EXPECT_EQ(pair.a.engine->live_connections(), 0u);
    EXPECT_EQ(pair.b.engine->live_connections(), 0u);
    EXPECT_EQ(pair.a.qp_ops.live(), 0u);
    EXPECT_EQ(pair.b.qp_ops.live(), 0u);
    EXPECT_EQ(pair.a.engine->next_deadline_ns(), UINT64_MAX);
}

TEST(RdmaCmEngine, PassiveSideDisconnectsToo)
{
    CmPair pair;
    ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
    pair.connect();
    pair.run_for(100 * ms);
    ASSERT_EQ(pair.a.count(CmEventType::Established), 1u);
    ASSERT_FALSE(pair.a.engine->disconnect(pair.a.last(CmEventType::Established)->id, pair.now).is_error());
    pair.run_for(100 * ms);
    expect_disconnected_once(pair);
    EXPECT_EQ(pair.a.sink.count(CmAttribute::Dreq), 1u);
    EXPECT_EQ(pair.b.sink.count(CmAttribute::Drep), 1u);
}

TEST(RdmaCmEngine, ClosedPortIsRefusedWithRej8NeverSilence)
{
    CmPair pair;
    ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
    CmConnectionId id = pair.connect(9999);
    pair.run_for(100 * ms); // far less than the 6.1 s REQ timer
    ASSERT_EQ(pair.b.count(CmEventType::Rejected), 1u);
    EXPECT_EQ(pair.b.last(CmEventType::Rejected)->reject_reason, 8);
    EXPECT_EQ(pair.b.engine->state_of(id), CmState::Free);
    EXPECT_EQ(pair.b.qp_ops.live(), 0u);
    EXPECT_EQ(pair.a.engine->live_connections(), 0u);
    EXPECT_EQ(pair.a.count(CmEventType::ConnectRequest), 0u);
    // The REJ as the reject capture shows it: local ID 0, the REQ's ID as
    // remote, Message Rejected = REQ, the REQ's TID.
    ASSERT_EQ(pair.a.sink.sent.size(), 1u);
    CmRej rej;
    ASSERT_EQ(decode_rej(Span<const uint8_t>(pair.a.sink.sent[0].data(), 256), rej), CmDrop::None);
    EXPECT_EQ(rej.local_comm_id, 0u);
    EXPECT_EQ(rej.remote_comm_id, id);
    EXPECT_EQ(rej.message_rejected, CmMessageKind::Req);
    EXPECT_EQ(rej.reason, 8);
    EXPECT_EQ(pair.a.sink.destinations[0], CmPair::ip_b);
    EXPECT_TRUE(
        std::equal(pair.a.sink.sent[0].begin() + 8, pair.a.sink.sent[0].begin() + 16, pair.b.sink.sent[0].begin() + 8));
}

TEST(RdmaCmEngine, UserRejectGivesRej28)
{
    CmPair pair;
    ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
    pair.a.on_connect_request
        = [&](CmSide& side, const CmEvent& event) { EXPECT_FALSE(side.engine->reject(event.id, pair.now).is_error()); };
    pair.connect();
    pair.run_for(100 * ms);
    ASSERT_EQ(pair.b.count(CmEventType::Rejected), 1u);
    EXPECT_EQ(pair.b.last(CmEventType::Rejected)->reject_reason, 28);
    EXPECT_EQ(pair.a.engine->live_connections(), 0u);
}

TEST(RdmaCmEngine, QpSetupFailureOnAcceptRejectsWith28)
{
    CmPair pair;
    ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
    pair.a.qp_ops.fail_rtr = true;
    pair.a.on_connect_request = [&](CmSide& side, const CmEvent& event) {
        EXPECT_TRUE(side.engine->accept(event.id, {}, pair.now).is_error());
    };
    pair.connect();
    pair.run_for(100 * ms);
    ASSERT_EQ(pair.b.count(CmEventType::Rejected), 1u);
    EXPECT_EQ(pair.b.last(CmEventType::Rejected)->reject_reason, 28);
    EXPECT_EQ(pair.a.qp_ops.live(), 0u);
    EXPECT_EQ(pair.b.qp_ops.live(), 0u);
}

TEST(RdmaCmEngine, LostReqIsRetransmittedAfterTheReqTimer)
{
    CmPair pair;
    ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
    pair.b.sink.drop_next = 1;
    pair.connect();
    pair.run_for(6000 * ms);
    EXPECT_EQ(pair.b.count(CmEventType::Established), 0u);
    // 2 x 2^(18-8) + 2^(20-8) ms = 6144 ms.
    pair.run_for(200 * ms);
    expect_connected_once(pair);
    EXPECT_EQ(pair.b.sink.count(CmAttribute::Req), 2u);
    EXPECT_EQ(pair.b.sink.sent[0], pair.b.sink.sent[1]); // byte-identical, TID included
}

TEST(RdmaCmEngine, LostRepIsRetransmittedAndTheReqCopyIsNotASecondConnection)
{
    CmPair pair;
    ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
    pair.a.sink.drop_next = 1;
    pair.connect();
    pair.run_for(4200 * ms); // the REP timer: 2^(20-8) = 4096 ms
    expect_connected_once(pair);
    EXPECT_EQ(pair.a.sink.count(CmAttribute::Rep), 2u);
    pair.run_for(10000 * ms);
    expect_connected_once(pair);
    EXPECT_EQ(pair.a.engine->live_connections(), 1u);
}

TEST(RdmaCmEngine, LostRtuIsRecoveredByTheRepRetransmission)
{
    CmPair pair;
    ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
    pair.connect();
    // Deliver the REQ, let A answer, then lose B's RTU.
    pair.b.sink.drop_sends = { 1 }; // B's second MAD, the RTU
    pair.run_for(100 * ms);
    EXPECT_EQ(pair.b.count(CmEventType::Established), 1u);
    EXPECT_EQ(pair.a.count(CmEventType::Established), 0u);
    pair.run_for(4200 * ms);
    expect_connected_once(pair);
    EXPECT_EQ(pair.b.sink.count(CmAttribute::Rtu), 2u); // the duplicate REP got a new RTU
    EXPECT_EQ(pair.b.engine->counters().duplicates, 1u);
}

TEST(RdmaCmEngine, LostDreqAndLostDrepAreRetransmitted)
{
    for (int lose_drep = 0; lose_drep < 2; ++lose_drep) {
        CmPair pair;
        ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
        CmConnectionId id = pair.connect();
        pair.run_for(100 * ms);
        expect_connected_once(pair);
        (lose_drep ? pair.a.sink : pair.b.sink).drop_next = 1;
        ASSERT_FALSE(pair.b.engine->disconnect(id, pair.now).is_error());
        pair.run_for(100 * ms);
        EXPECT_EQ(pair.b.count(CmEventType::Disconnected), 0u) << lose_drep;
        pair.run_for(6200 * ms); // the active side's DREQ timer is its REQ timer
        expect_disconnected_once(pair);
        EXPECT_EQ(pair.b.sink.count(CmAttribute::Dreq), 2u);
        EXPECT_EQ(pair.a.sink.count(CmAttribute::Drep), lose_drep ? 2u : 1u);
    }
}

TEST(RdmaCmEngine, EveryMessageDuplicatedStillConnectsOnce)
{
    CmPair pair({ .duplicate = 1.0, .seed = 3 }, { .duplicate = 1.0, .seed = 4 });
    ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
    CmConnectionId id = pair.connect();
    pair.run_for(100 * ms);
    expect_connected_once(pair);
    EXPECT_GE(pair.a.engine->counters().duplicates, 2u); // REQ and RTU copies
    ASSERT_FALSE(pair.b.engine->disconnect(id, pair.now).is_error());
    pair.run_for(100 * ms);
    expect_disconnected_once(pair);
    // A duplicated REQ never produced a second REP (cm_dup_req_handler).
    EXPECT_EQ(pair.a.sink.count(CmAttribute::Rep), 1u);
    pair.run_for(30000 * ms);
    EXPECT_EQ(pair.a.engine->live_connections(), 0u);
    EXPECT_EQ(pair.b.engine->live_connections(), 0u);
}

TEST(RdmaCmEngine, LossyDuplicatingReorderingCableConnectsExactlyOnce)
{
    for (uint64_t seed = 1; seed <= 40; ++seed) {
        LinkImpairments bad { .loss = 0.3, .duplicate = 0.2, .reorder = 0.2, .seed = seed };
        LinkImpairments bad_back = bad;
        bad_back.seed = seed + 1000;
        CmPair pair(bad, bad_back);
        ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
        CmConnectionId id = pair.connect();
        pair.run_for(120'000 * ms);
        SCOPED_TRACE(seed);
        expect_connected_once(pair);
        ASSERT_FALSE(pair.b.engine->disconnect(id, pair.now).is_error());
        pair.run_for(120'000 * ms);
        expect_disconnected_once(pair);
        EXPECT_EQ(pair.a.engine->live_connections(), 0u);
        EXPECT_EQ(pair.b.engine->live_connections(), 0u);
        EXPECT_EQ(pair.a.qp_ops.live() + pair.b.qp_ops.live(), 0u);
    }
}

TEST(RdmaCmEngine, UnansweredReqTimesOutAfterSixteenSends)
{
    CmPair pair;
    pair.link_ba.set_partitioned(true);
    CmConnectionId id = pair.connect();
    pair.run_for(200'000 * ms);
    ASSERT_EQ(pair.b.count(CmEventType::TimedOut), 1u);
    EXPECT_EQ(pair.b.last(CmEventType::TimedOut)->id, id);
    EXPECT_EQ(pair.b.sink.count(CmAttribute::Req), 16u); // 1 + MaxCMRetries 15
    EXPECT_EQ(pair.b.qp_ops.live(), 0u);
    // 16 x 6144 ms.
    EXPECT_EQ(pair.b.engine->counters().retransmits, 15u);
}

TEST(RdmaCmEngine, RtuLessConnectionTimesOutOnThePassiveSide)
{
    CmPair pair;
    ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
    pair.link_ab.set_partitioned(true); // A's REPs never arrive
    pair.connect();
    // 16 REPs 4096 ms apart: the last runs out at 65.5 s. B's REQ copies
    // meanwhile are duplicates of a live connection and change nothing.
    pair.run_for(65'000 * ms);
    EXPECT_EQ(pair.a.count(CmEventType::TimedOut), 0u);
    pair.run_for(1'000 * ms);
    ASSERT_EQ(pair.a.count(CmEventType::TimedOut), 1u);
    EXPECT_EQ(pair.a.count(CmEventType::ConnectRequest), 1u);
    EXPECT_EQ(pair.a.count(CmEventType::Established), 0u);
    EXPECT_EQ(pair.a.sink.count(CmAttribute::Rep), 16u); // 1 + the REQ's MaxCMRetries
    EXPECT_EQ(pair.a.engine->live_connections(), 0u);
    EXPECT_EQ(pair.a.qp_ops.live(), 0u);
    EXPECT_GE(pair.a.engine->counters().duplicates, 10u);
    // B gives up too; a REQ copy after A forgot is a new request, as in Linux.
    pair.run_for(100'000 * ms);
    EXPECT_EQ(pair.b.count(CmEventType::TimedOut), 1u);
    EXPECT_EQ(pair.b.qp_ops.live(), 0u);
}

TEST(RdmaCmEngine, SlowAcceptAnswersTheReqCopyWithAnMraThatHoldsTheRetries)
{
    CmPair pair;
    ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
    pair.a.on_connect_request = nullptr; // the user takes its time
    CmConnectionId id = pair.connect();
    pair.run_for(6200 * ms); // the REQ's copy arrives while A has not answered
    EXPECT_EQ(pair.a.sink.count(CmAttribute::Mra), 1u);
    EXPECT_EQ(pair.b.engine->counters().received(CmAttribute::Mra), 1u);
    EXPECT_EQ(pair.b.engine->state_of(id), CmState::MraReqReceived);
    pair.run_for(20000 * ms); // without the MRA, B would have resent at 12.3 and 18.4 s
    EXPECT_EQ(pair.b.sink.count(CmAttribute::Req), 2u);
    EXPECT_EQ(pair.a.count(CmEventType::ConnectRequest), 1u);
    const CmEvent* request = pair.a.last(CmEventType::ConnectRequest);
    ASSERT_FALSE(pair.a.engine->accept(request->id, {}, pair.now).is_error());
    pair.run_for(100 * ms);
    expect_connected_once(pair);
}

TEST(RdmaCmEngine, DreqWithTheWrongQpnIsIgnoredAndAnUnknownOneStillGetsADrep)
{
    CmPair pair;
    ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
    CmConnectionId id = pair.connect();
    pair.run_for(100 * ms);
    const CmEvent* a = pair.a.last(CmEventType::Established);
    ASSERT_NE(a, nullptr);
    uint8_t mad[256];
    CmDreq dreq { .local_comm_id = id, .remote_comm_id = a->id, .remote_qpn = a->qpn + 1 };
    ASSERT_FALSE(encode_dreq(dreq, form_tid(id), Span<uint8_t>(mad, 256)).is_error());
    pair.a.engine->on_mad(CmPair::ip_b, Span<const uint8_t>(mad, 256), pair.now);
    EXPECT_EQ(pair.a.engine->counters().dropped(CmDrop::WrongQpn), 1u);
    EXPECT_EQ(pair.a.count(CmEventType::Disconnected), 0u);

    size_t sent = pair.a.sink.sent.size();
    CmDreq unknown { .local_comm_id = 0x1111, .remote_comm_id = 0x2222, .remote_qpn = 5 };
    ASSERT_FALSE(encode_dreq(unknown, 77, Span<uint8_t>(mad, 256)).is_error());
    pair.a.engine->on_mad(CmPair::ip_b, Span<const uint8_t>(mad, 256), pair.now);
    ASSERT_EQ(pair.a.sink.sent.size(), sent + 1);
    CmDrep drep;
    ASSERT_EQ(decode_drep(Span<const uint8_t>(pair.a.sink.sent.back().data(), 256), drep), CmDrop::None);
    EXPECT_EQ(drep.local_comm_id, 0x2222u);
    EXPECT_EQ(drep.remote_comm_id, 0x1111u);
    EXPECT_EQ(pair.a.sink.sent.back()[15], 77);
}

TEST(RdmaCmEngine, AbandonedConnectSendsRej4AndThePassiveSideLetsGo)
{
    CmPair pair;
    ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
    pair.a.on_connect_request = nullptr;
    CmConnectionId id = pair.connect();
    pair.run_for(100 * ms);
    ASSERT_EQ(pair.a.engine->live_connections(), 1u);
    ASSERT_FALSE(pair.b.engine->disconnect(id, pair.now).is_error());
    pair.run_for(100 * ms);
    EXPECT_EQ(pair.b.engine->live_connections(), 0u);
    EXPECT_EQ(pair.a.engine->live_connections(), 0u);
    ASSERT_EQ(pair.a.count(CmEventType::Rejected), 1u);
    EXPECT_EQ(pair.a.last(CmEventType::Rejected)->reject_reason, 4);
}

TEST(RdmaCmEngine, PlantedFailuresAreCaught)
{
    // The checks above bite: a cable that loses every message must fail
    // expect_connected_once, and so must a forged second Established.
    EXPECT_NONFATAL_FAILURE(
        {
            CmPair pair({ .partitioned = true }, { .partitioned = true });
            ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
            pair.connect();
            pair.run_for(10'000 * ms);
            expect_connected_once(pair);
        },
        "A: not exactly one ConnectRequest");
    EXPECT_NONFATAL_FAILURE(
        {
            CmPair pair;
            ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
            pair.connect();
            pair.run_for(100 * ms);
            pair.b.events.push_back(*pair.b.last(CmEventType::Established));
            expect_connected_once(pair);
        },
        "B: not Established exactly once");
    // And the fake QP refuses a transition out of order, so a CM that
    // skipped RTR would be caught.
    FakeQpOps ops(1);
    uint32_t qpn = MUST(ops.create_rc_qp(0));
    EXPECT_TRUE(ops.modify_to_rts(qpn, {}).is_error());
}

TEST(RdmaCmEngine, StaleReqGetsRej10AndTheOldConnectionADreq)
{
    // B "crashed and came back": a new REQ (new comm ID) from the same QPN
    // and CA GUID as a live connection.
    CmPair pair;
    ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
    CmConnectionId id = pair.connect();
    pair.run_for(100 * ms);
    ASSERT_TRUE(connected_once(pair));
    Bytes req = pair.b.sink.sent[0];
    req[27] ^= 0x01; // another Local Comm ID, same QPN and GUID
    size_t sent = pair.a.sink.sent.size();
    pair.a.engine->on_mad(CmPair::ip_b, Span<const uint8_t>(req.data(), req.size()), pair.now);
    ASSERT_EQ(pair.a.sink.sent.size(), sent + 2);
    CmRej rej;
    ASSERT_EQ(decode_rej(Span<const uint8_t>(pair.a.sink.sent[sent].data(), 256), rej), CmDrop::None);
    EXPECT_EQ(rej.reason, 10);
    EXPECT_EQ(rej.remote_comm_id, id ^ 0x01);
    EXPECT_EQ(pair.a.sink.attribute_of(sent + 1), static_cast<uint16_t>(CmAttribute::Dreq));
    EXPECT_EQ(pair.a.count(CmEventType::ConnectRequest), 1u);
}
