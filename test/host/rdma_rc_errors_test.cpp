// Remote access errors: an out-of-bounds, wrong-key or not-permitted WRITE
// or READ gets NAK 0x62 (remote access error), the requester completes
// REM_ACCESS_ERR, the responder QP goes to ERR, and no byte outside the
// region (or inside it) changes. Wrong opcode sequences and WRITE segment
// sizes get NAK 0x61. The verbs checks (MR bounds, QP state machine) too.

#include <gtest/gtest.h>
#include <rdma_pair.h>

using namespace tessera;
using namespace tessera::test;
using namespace tessera::test::roce;

namespace {

struct AccessCase {
    const char* name;
    WrOpcode opcode;
    int64_t offset; // from B's MR start
    uint32_t length;
    bool wrong_key;
    uint32_t mr_access; // of the MR B exposes
};

class RemoteAccess : public ::testing::TestWithParam<AccessCase> { };

TEST_P(RemoteAccess, NaksAndChangesNothing)
{
    AccessCase param = GetParam();
    RdmaPair pair;
    pair.connect();
    Endpoint& a = pair.a;
    Endpoint& b = pair.b;
    // B exposes [4096, 4096 + 8192) of its buffer as a second MR.
    MemoryRegion* exposed
        = MUST(b.engine->register_mr(*b.pd, b.buffer.data() + 4096, 0x7000000, 8192, param.mr_access));
    fill_pattern(b.buffer, 0, b.buffer.size(), 9);
    fill_pattern(a.buffer, 0, a.buffer.size(), 10);
    std::vector<uint8_t> b_before = b.buffer;
    std::vector<uint8_t> a_before = a.buffer;
    uint32_t rkey = param.wrong_key ? exposed->rkey() ^ 0x01 : exposed->rkey();
    uint64_t remote = static_cast<uint64_t>(0x7000000 + param.offset);
    MUST(a.qp->post_send(make_wr(1, param.opcode, a.sge(0, param.length), remote, rkey)));
    MUST(a.qp->post_send(make_wr(2, WrOpcode::Send, a.sge(0, 10))));
    std::vector<WorkCompletion> done;
    ASSERT_TRUE(pair.run_until([&] {
        for (auto& wc : a.drain())
            done.push_back(wc);
        return done.size() == 2;
    }));
    EXPECT_EQ(done[0].status, WcStatus::RemAccessErr) << wc_status_name(done[0].status);
    EXPECT_EQ(done[1].status, WcStatus::WrFlushErr);
    EXPECT_EQ(a.qp->state(), QpState::Err);
    EXPECT_EQ(b.qp->state(), QpState::Err);
    EXPECT_EQ(b.engine->counters().nak_access_sent, 1u);
    EXPECT_TRUE(b.buffer == b_before) << "the responder's memory changed";
    EXPECT_TRUE(a.buffer == a_before) << "the requester's memory changed";
}

constexpr uint32_t all = access_local_write | access_remote_write | access_remote_read;

INSTANTIATE_TEST_SUITE_P(Cases, RemoteAccess,
    ::testing::Values(AccessCase { "write_past_end", WrOpcode::RdmaWrite, 8192 - 100, 101, false, all },
        AccessCase { "write_multi_packet_past_end", WrOpcode::RdmaWrite, 4096, 5000, false, all },
        AccessCase { "write_before_start", WrOpcode::RdmaWrite, -1, 16, false, all },
        AccessCase { "write_wrong_rkey", WrOpcode::RdmaWrite, 0, 16, true, all },
        AccessCase {
            "write_without_remote_write", WrOpcode::RdmaWrite, 0, 16, false, access_local_write | access_remote_read },
        AccessCase { "write_imm_past_end", WrOpcode::RdmaWriteWithImm, 8000, 300, false, all },
        AccessCase { "read_past_end", WrOpcode::RdmaRead, 100, 8192, false, all },
        AccessCase { "read_wrong_rkey", WrOpcode::RdmaRead, 0, 16, true, all },
        AccessCase {
            "read_without_remote_read", WrOpcode::RdmaRead, 0, 16, false, access_local_write | access_remote_write },
        AccessCase { "address_wraps", WrOpcode::RdmaWrite, -0x7000000 - 8, 64, false, all }),
    [](const auto& info) { return std::string(info.param.name); });

TEST(MemoryRegion, BoundsAreOverflowSafe)
{
    ProtectionDomain pd(1);
    uint8_t bytes[100];
    MemoryRegion mr(pd, bytes, 1000, 100, access_local_write, 0x105);
    EXPECT_FALSE(mr.resolve(1000, 100, 0).is_error());
    EXPECT_FALSE(mr.resolve(1099, 1, access_local_write).is_error());
    EXPECT_FALSE(mr.resolve(1100, 0, 0).is_error());
    EXPECT_EQ(mr.resolve(1099, 2, 0).error().code(), Errno::FAULT);
    EXPECT_EQ(mr.resolve(999, 1, 0).error().code(), Errno::FAULT);
    EXPECT_EQ(mr.resolve(1001, UINT64_MAX, 0).error().code(), Errno::FAULT);
    EXPECT_EQ(mr.resolve(UINT64_MAX, 2, 0).error().code(), Errno::FAULT);
    EXPECT_EQ(mr.resolve(1000, 1, access_remote_write).error().code(), Errno::ACCES);
}

TEST(MemoryRegion, KeysAreIndexAndRandomTag)
{
    RdmaPair pair;
    auto& e = pair.a;
    MemoryRegion* second = MUST(e.engine->register_mr(*e.pd, e.buffer.data(), 64, access_local_write));
    EXPECT_EQ(second->lkey() >> 8, 2u); // slot 1 is the pair's own MR
    EXPECT_EQ(second->lkey(), second->rkey());
    EXPECT_EQ(e.engine->memory_regions().find(second->lkey()), second);
    EXPECT_EQ(e.engine->memory_regions().find(second->lkey() ^ 0x80), nullptr);
    EXPECT_EQ(e.engine->memory_regions().find(0), nullptr);
    EXPECT_TRUE(e.engine->register_mr(*e.pd, e.buffer.data(), 64, access_remote_write).is_error())
        << "remote write needs local write";
    EXPECT_TRUE(e.engine->register_mr(*e.pd, e.buffer.data(), UINT64_MAX - 8, 64, access_local_write).is_error());
    uint32_t key = second->lkey();
    MUST(e.engine->deregister_mr(*second));
    EXPECT_EQ(e.engine->memory_regions().find(key), nullptr);
    EXPECT_EQ(e.engine->dealloc_pd(*e.pd).error().code(), Errno::BUSY);
}

TEST(LocalAccess, PostRejectsBadSges)
{
    RdmaPair pair;
    pair.connect();
    auto& a = pair.a;
    Sge past_end { a.va(a.buffer.size() - 10), 11, a.mr->lkey() };
    EXPECT_EQ(a.qp->post_send(make_wr(1, WrOpcode::Send, past_end)).error().code(), Errno::FAULT);
    Sge bad_key { a.va(0), 10, a.mr->lkey() + 1 };
    EXPECT_TRUE(a.qp->post_recv(make_recv(1, bad_key)).is_error());
    MemoryRegion* read_only = MUST(a.engine->register_mr(*a.pd, a.buffer.data(), 64, 0));
    Sge no_write { read_only->virtual_address(), 8, read_only->lkey() };
    EXPECT_TRUE(a.qp->post_recv(make_recv(1, no_write)).is_error()) << "receives need LOCAL_WRITE";
    EXPECT_TRUE(a.qp->post_send(make_wr(1, WrOpcode::RdmaRead, no_write, pair.b.va(0), pair.b.mr->rkey())).is_error());
    EXPECT_FALSE(a.qp->post_send(make_wr(1, WrOpcode::Send, no_write)).is_error()) << "a SEND only reads";
}

TEST(LocalAccess, DeregisteredWhileQueuedFailsLocally)
{
    RdmaPair pair;
    pair.connect();
    auto& a = pair.a;
    MemoryRegion* temporary = MUST(a.engine->register_mr(*a.pd, a.buffer.data(), 4096, access_local_write));
    MUST(a.qp->post_send(make_wr(1, WrOpcode::Send, { temporary->virtual_address(), 100, temporary->lkey() })));
    MUST(a.engine->deregister_mr(*temporary));
    pair.run_idle();
    auto done = a.drain();
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].status, WcStatus::LocProtErr);
    EXPECT_EQ(a.qp->state(), QpState::Err);
}

TEST(QueuePairState, TransitionsNeedTheirAttributes)
{
    RdmaPair pair;
    QueuePair& qp = *pair.a.qp;
    QpAttr attr;
    attr.qp_state = QpState::Rtr;
    EXPECT_TRUE(qp.modify(attr, qp_attr_state).is_error()) << "RESET -> RTR";
    attr.qp_state = QpState::Init;
    EXPECT_TRUE(qp.modify(attr, qp_attr_state).is_error()) << "INIT needs pkey, port, access";
    MUST(qp.modify(attr, qp_attr_state | qp_attr_pkey_index | qp_attr_port | qp_attr_access_flags));
    EXPECT_EQ(qp.state(), QpState::Init);
    EXPECT_TRUE(qp.post_send(make_wr(1, WrOpcode::Send, pair.a.sge(0, 1))).is_error()) << "no send before RTS";
    attr.qp_state = QpState::Rtr;
    attr.ah_attr.destination = ip_b;
    attr.dest_qp_num = 0x11;
    uint32_t rtr = qp_attr_state | qp_attr_av | qp_attr_path_mtu | qp_attr_dest_qpn | qp_attr_rq_psn
        | qp_attr_max_dest_rd_atomic | qp_attr_min_rnr_timer;
    EXPECT_TRUE(qp.modify(attr, rtr & ~qp_attr_path_mtu).is_error());
    attr.path_mtu = static_cast<PathMtu>(6);
    EXPECT_TRUE(qp.modify(attr, rtr).is_error()) << "MTU 8192";
    attr.path_mtu = PathMtu::Mtu4096;
    attr.rq_psn = 0x1000000;
    EXPECT_TRUE(qp.modify(attr, rtr).is_error()) << "PSN wider than 24 bits";
    attr.rq_psn = 5;
    MUST(qp.modify(attr, rtr));
    EXPECT_EQ(qp.path_mtu(), 4096u);
    EXPECT_EQ(qp.expected_psn(), 5u);
    attr.qp_state = QpState::Rts;
    attr.retry_cnt = 8;
    uint32_t rts = qp_attr_state | qp_attr_sq_psn | qp_attr_timeout | qp_attr_retry_cnt | qp_attr_rnr_retry
        | qp_attr_max_qp_rd_atomic;
    EXPECT_TRUE(qp.modify(attr, rts).is_error()) << "retry_cnt 8";
    attr.retry_cnt = 7;
    attr.sq_psn = 0xFFFFFE;
    MUST(qp.modify(attr, rts));
    EXPECT_EQ(qp.next_send_psn(), 0xFFFFFEu);
    attr.qp_state = QpState::Sqd;
    MUST(qp.modify(attr, qp_attr_state));
    attr.qp_state = QpState::Rts;
    MUST(qp.modify(attr, qp_attr_state));
    // ERR flushes everything posted, signaled or not.
    MUST(pair.a.qp->post_recv(make_recv(7, pair.a.sge(0, 8))));
    SendWr unsignaled = make_wr(8, WrOpcode::Send, pair.a.sge(0, 1));
    unsignaled.send_flags = 0;
    pair.a_to_b().set_partitioned(true);
    MUST(qp.post_send(unsignaled));
    attr.qp_state = QpState::Err;
    MUST(qp.modify(attr, qp_attr_state));
    auto done = pair.a.drain();
    ASSERT_EQ(done.size(), 2u);
    EXPECT_EQ(done[0].status, WcStatus::WrFlushErr);
    EXPECT_EQ(done[1].status, WcStatus::WrFlushErr);
    attr.qp_state = QpState::Rts;
    EXPECT_TRUE(qp.modify(attr, qp_attr_state).is_error()) << "ERR -> RTS";
    attr.qp_state = QpState::Reset;
    MUST(qp.modify(attr, qp_attr_state));
}

TEST(CompletionQueue, NotifiesOnceWhenArmed)
{
    auto cq = MUST(CompletionQueue::try_create(2));
    int calls = 0;
    cq->set_callback([](CompletionQueue&, void* context) { ++*static_cast<int*>(context); }, &calls);
    cq->add({});
    EXPECT_EQ(calls, 0);
    cq->request_notify();
    cq->add({});
    cq->add({}); // full: counted, dropped, and the callback is one-shot anyway
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(cq->overflows(), 1u);
    WorkCompletion wc[4];
    EXPECT_EQ(cq->poll(Span<WorkCompletion>(wc, 4)), 2u);
}

} // namespace
