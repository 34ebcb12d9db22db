// RC over a bad wire: loss, duplication, reordering and bit flips in both
// directions. Every message must arrive exactly once, in order and
// byte-exact (go-back-N, duplicate detection, ICRC drops), or the QP must
// fail the way the spec says (RETRY_EXC_ERR when the cable is cut, in
// bounded virtual time).

#include <gtest/gtest.h>
#include <random>
#include <rdma_pair.h>

using namespace tessera;
using namespace tessera::test;
using namespace tessera::test::roce;

namespace {

constexpr size_t slot_size = 20000;
constexpr size_t message_count = 160;

struct LossCase {
    double loss;
    double noise; // duplication, reordering and corruption each
    PathMtu mtu;
    uint64_t seed;
};

class RcLossy : public ::testing::TestWithParam<LossCase> { };

TEST_P(RcLossy, EveryMessageExactlyOnceInOrder)
{
    LossCase param = GetParam();
    LinkImpairments impairments {
        .loss = param.loss, .duplicate = param.noise, .reorder = param.noise, .corrupt = param.noise, .seed = param.seed
    };
    RdmaPair pair(impairments, impairments, slot_size * message_count);
    pair.connect({ .mtu = param.mtu, .timeout = 8 });
    Endpoint& a = pair.a;
    Endpoint& b = pair.b;

    std::mt19937 rng(static_cast<uint32_t>(param.seed));
    const WrOpcode ops[] = { WrOpcode::Send, WrOpcode::RdmaWriteWithImm, WrOpcode::RdmaRead, WrOpcode::RdmaWrite,
        WrOpcode::SendWithImm };
    std::vector<size_t> sizes;
    std::vector<WrOpcode> opcodes;
    std::vector<uint64_t> expected_recv;
    for (size_t i = 0; i < message_count; ++i) {
        size_t size = std::uniform_int_distribution<size_t>(1, slot_size)(rng);
        WrOpcode op = ops[i % 5];
        sizes.push_back(size);
        opcodes.push_back(op);
        size_t slot = i * slot_size;
        if (op == WrOpcode::RdmaRead)
            fill_pattern(b.buffer, slot, size, static_cast<uint32_t>(i + 5000));
        else
            fill_pattern(a.buffer, slot, size, static_cast<uint32_t>(i));
        if (op == WrOpcode::Send || op == WrOpcode::SendWithImm || op == WrOpcode::RdmaWriteWithImm) {
            MUST(b.qp->post_recv(make_recv(i, b.sge(slot, static_cast<uint32_t>(slot_size)))));
            expected_recv.push_back(i);
        }
        SendWr wr = make_wr(i, op, a.sge(slot, static_cast<uint32_t>(size)), b.va(slot), b.mr->rkey());
        wr.imm_data = static_cast<uint32_t>(i) * 3 + 1;
        MUST(a.qp->post_send(wr));
    }

    std::vector<WorkCompletion> a_done, b_done;
    bool finished = pair.run_until([&] {
        for (auto& wc : a.drain())
            a_done.push_back(wc);
        for (auto& wc : b.drain())
            b_done.push_back(wc);
        return a_done.size() == message_count && b_done.size() == expected_recv.size();
    });
    const RoceCounters& ca = a.engine->counters();
    const RoceCounters& cb = b.engine->counters();
    SCOPED_TRACE(::testing::Message() << "a: retries " << ca.retries << " timeouts " << ca.retransmit_timeouts
                                      << " drops " << ca.total_drops() << "; b: dup " << cb.duplicate_request << " ooo "
                                      << cb.out_of_sequence_request << " drops " << cb.total_drops() << " state "
                                      << qp_state_name(a.qp->state()));
    ASSERT_TRUE(finished) << a_done.size() << " of " << message_count << " sends, " << b_done.size() << " of "
                          << expected_recv.size() << " receives";
    for (size_t i = 0; i < message_count; ++i) {
        ASSERT_EQ(a_done[i].status, WcStatus::Success) << i << " " << wc_status_name(a_done[i].status);
        ASSERT_EQ(a_done[i].wr_id, i) << "send completions out of order";
    }
    for (size_t k = 0; k < expected_recv.size(); ++k) {
        size_t i = expected_recv[k];
        ASSERT_EQ(b_done[k].status, WcStatus::Success);
        ASSERT_EQ(b_done[k].wr_id, i) << "receive completions out of order";
        ASSERT_EQ(b_done[k].byte_len, sizes[i]);
        if (opcodes[i] != WrOpcode::Send) {
            ASSERT_EQ(b_done[k].imm_data, static_cast<uint32_t>(i) * 3 + 1);
        }
    }
    for (size_t i = 0; i < message_count; ++i) {
        size_t slot = i * slot_size;
        const auto& source = opcodes[i] == WrOpcode::RdmaRead ? b.buffer : a.buffer;
        const auto& target = opcodes[i] == WrOpcode::RdmaRead ? a.buffer : b.buffer;
        ASSERT_EQ(0, memcmp(source.data() + slot, target.data() + slot, sizes[i])) << "message " << i;
        if (sizes[i] < slot_size) {
            ASSERT_EQ(target[slot + sizes[i]], 0) << "message " << i << " wrote past its end";
        }
    }
    // Nothing more happens once all is acknowledged (no stray retransmits).
    pair.run_idle();
    EXPECT_TRUE(a.drain().empty());
    EXPECT_TRUE(b.drain().empty());
    EXPECT_EQ(a.qp->state(), QpState::Rts);
    EXPECT_EQ(b.qp->state(), QpState::Rts);
    if (param.loss > 0) {
        EXPECT_GT(ca.retries, 0u);
    }
    if (param.noise > 0) {
        EXPECT_GT(cb.drops(DropReason::BadIcrc) + ca.drops(DropReason::BadIcrc), 0u);
        EXPECT_GT(cb.duplicate_request, 0u);
    }
}

INSTANTIATE_TEST_SUITE_P(Impairments, RcLossy,
    ::testing::Values(LossCase { 0.0, 0.0, PathMtu::Mtu1024, 1 }, LossCase { 0.01, 0.0, PathMtu::Mtu1024, 2 },
        LossCase { 0.10, 0.0, PathMtu::Mtu1024, 3 }, LossCase { 0.01, 0.02, PathMtu::Mtu1024, 4 },
        LossCase { 0.10, 0.02, PathMtu::Mtu1024, 5 }, LossCase { 0.10, 0.02, PathMtu::Mtu4096, 6 },
        LossCase { 0.01, 0.02, PathMtu::Mtu256, 7 }, LossCase { 0.10, 0.05, PathMtu::Mtu1024, 8 }));

TEST(RcFailure, PartitionExhaustsRetriesInBoundedTime)
{
    RdmaPair pair;
    pair.connect({ .timeout = 10, .retry_cnt = 3 });
    pair.a_to_b().set_partitioned(true);
    for (uint64_t id = 1; id <= 3; ++id)
        MUST(pair.a.qp->post_send(
            make_wr(id, WrOpcode::RdmaWrite, pair.a.sge(0, 5000), pair.b.va(0), pair.b.mr->rkey())));
    std::vector<WorkCompletion> done;
    ASSERT_TRUE(pair.run_until([&] {
        for (auto& wc : pair.a.drain())
            done.push_back(wc);
        return done.size() == 3;
    }));
    EXPECT_EQ(done[0].status, WcStatus::RetryExcErr);
    EXPECT_EQ(done[1].status, WcStatus::WrFlushErr);
    EXPECT_EQ(done[2].status, WcStatus::WrFlushErr);
    EXPECT_EQ(pair.a.qp->state(), QpState::Err);
    EXPECT_EQ(pair.a.engine->counters().retransmit_timeouts, 4u); // the first try and 3 retries
    // 4 timeouts of 4.096 us * 2^10, and nothing more.
    EXPECT_LT(pair.now, 5 * (4096ull << 10));
    EXPECT_GE(pair.now, 4 * (4096ull << 10));
}

TEST(RcFailure, RetryCountSevenRetriesForever)
{
    RdmaPair pair;
    pair.connect({ .timeout = 8, .retry_cnt = 7 });
    pair.a_to_b().set_partitioned(true);
    MUST(pair.a.qp->post_send(make_wr(1, WrOpcode::Send, pair.a.sge(0, 10))));
    EXPECT_FALSE(pair.run_until([&] { return pair.a.cq->size() > 0; }, 1'000'000'000ull));
    EXPECT_GT(pair.a.engine->counters().retransmit_timeouts, 500u);
    EXPECT_EQ(pair.a.qp->state(), QpState::Rts);
    // The cable comes back: the message gets through.
    pair.a_to_b().set_partitioned(false);
    MUST(pair.b.qp->post_recv(make_recv(9, pair.b.sge(0, 64))));
    ASSERT_TRUE(pair.run_until([&] { return pair.a.cq->size() == 1 && pair.b.cq->size() == 1; }));
    EXPECT_EQ(pair.a.drain()[0].status, WcStatus::Success);
}

TEST(RcFailure, LateReceiveRecoversFromRnr)
{
    RdmaPair pair;
    pair.connect({ .rnr_retry = 7, .min_rnr_timer = 14 }); // 1.28 ms
    fill_pattern(pair.a.buffer, 0, 3000, 77);
    MUST(pair.a.qp->post_send(make_wr(1, WrOpcode::Send, pair.a.sge(0, 3000))));
    pair.run_until([] { return false; }, 5'000'000); // 5 ms with no receive posted
    EXPECT_GT(pair.b.engine->counters().rnr_nak_sent, 1u);
    EXPECT_GT(pair.a.engine->counters().rnr_nak_received, 1u);
    EXPECT_EQ(pair.a.cq->size(), 0u);
    MUST(pair.b.qp->post_recv(make_recv(5, pair.b.sge(8192, 4096))));
    ASSERT_TRUE(pair.run_until([&] { return pair.a.cq->size() == 1 && pair.b.cq->size() == 1; }));
    EXPECT_EQ(pair.a.drain()[0].status, WcStatus::Success);
    auto wc = pair.b.drain()[0];
    EXPECT_EQ(wc.status, WcStatus::Success);
    EXPECT_EQ(wc.byte_len, 3000u);
    EXPECT_EQ(0, memcmp(pair.a.buffer.data(), pair.b.buffer.data() + 8192, 3000));
}

TEST(RcFailure, RnrRetryExhausted)
{
    RdmaPair pair;
    pair.connect({ .rnr_retry = 2, .min_rnr_timer = 1 });
    MUST(pair.a.qp->post_send(
        make_wr(1, WrOpcode::RdmaWriteWithImm, pair.a.sge(0, 100), pair.b.va(0), pair.b.mr->rkey())));
    ASSERT_TRUE(pair.run_until([&] { return pair.a.cq->size() == 1; }));
    EXPECT_EQ(pair.a.drain()[0].status, WcStatus::RnrRetryExcErr);
    EXPECT_EQ(pair.a.engine->counters().rnr_nak_received, 3u);
    EXPECT_EQ(pair.a.qp->state(), QpState::Err);
}

} // namespace
