// UD and QP1 (GSI, what the CM uses): one packet per message, Q_Key
// checked, the receive lands after a 40-byte GRH area holding the IPv4
// header, the completion names the sender's QPN and address.

#include <gtest/gtest.h>
#include <net/inet/lib/byte_order.h>
#include <rdma_pair.h>

using namespace tessera;
using namespace tessera::test;
using namespace tessera::test::roce;

namespace {

QueuePair* make_ud(Endpoint& e, QpType type, uint32_t qkey)
{
    QueuePair* qp = MUST(e.engine->create_qp({ .qp_type = type, .pd = e.pd, .send_cq = e.cq, .recv_cq = e.cq }));
    QpAttr attr;
    attr.qp_state = QpState::Init;
    attr.qkey = qkey;
    MUST(qp->modify(attr, qp_attr_state | qp_attr_pkey_index | qp_attr_port | qp_attr_qkey));
    attr.qp_state = QpState::Rtr;
    MUST(qp->modify(attr, qp_attr_state));
    attr.qp_state = QpState::Rts;
    MUST(qp->modify(attr, qp_attr_state | qp_attr_sq_psn));
    return qp;
}

TEST(Ud, GsiExchangeWithGrhArea)
{
    RdmaPair pair;
    QueuePair* a1 = make_ud(pair.a, QpType::Gsi, 0);
    QueuePair* b1 = make_ud(pair.b, QpType::Gsi, 0);
    EXPECT_EQ(a1->qp_num(), 1u);
    EXPECT_EQ(b1->qp_num(), 1u);
    EXPECT_EQ(b1->attr().qkey, gsi_qkey);
    fill_pattern(pair.a.buffer, 0, 256, 3);
    MUST(b1->post_recv(make_recv(7, pair.b.sge(0, 40 + 256))));
    SendWr wr = make_wr(5, WrOpcode::SendWithImm, pair.a.sge(0, 256));
    wr.ah = { .destination = ip_b, .hop_limit = 64 };
    wr.remote_qpn = 1;
    wr.remote_qkey = gsi_qkey;
    wr.imm_data = 0x1234;
    MUST(a1->post_send(wr));
    ASSERT_TRUE(pair.run_until([&] { return pair.a.cq->size() == 1 && pair.b.cq->size() == 1; }));
    EXPECT_EQ(pair.a.drain()[0].status, WcStatus::Success);
    auto wc = pair.b.drain()[0];
    EXPECT_EQ(wc.status, WcStatus::Success);
    EXPECT_EQ(wc.wr_id, 7u);
    EXPECT_EQ(wc.byte_len, 40u + 256u);
    EXPECT_EQ(wc.src_qp, 1u);
    EXPECT_EQ(wc.source, ip_a);
    EXPECT_EQ(wc.imm_data, 0x1234u);
    EXPECT_EQ(wc.wc_flags, wc_grh | wc_with_imm);
    EXPECT_EQ(pair.b.buffer[20], 0x45) << "IPv4 header in the GRH area's last 20 bytes";
    EXPECT_EQ(load_ipv4(Span<const uint8_t>(pair.b.buffer.data(), 40), 32), ip_a);
    EXPECT_EQ(0, memcmp(pair.a.buffer.data(), pair.b.buffer.data() + 40, 256));
}

TEST(Ud, QkeyMismatchAndNoReceiveAreDropped)
{
    RdmaPair pair;
    QueuePair* a = make_ud(pair.a, QpType::Ud, 0x11111111);
    QueuePair* b = make_ud(pair.b, QpType::Ud, 0x22222222);
    SendWr wr = make_wr(1, WrOpcode::Send, pair.a.sge(0, 100));
    wr.ah = { .destination = ip_b };
    wr.remote_qpn = b->qp_num();
    wr.remote_qkey = 0x80000000; // "use my own": 0x11111111, wrong for B
    MUST(b->post_recv(make_recv(1, pair.b.sge(0, 200))));
    MUST(a->post_send(wr));
    pair.run_idle();
    EXPECT_EQ(pair.b.engine->counters().drops(DropReason::BadQkey), 1u);
    wr.remote_qkey = 0x22222222;
    MUST(a->post_send(wr));
    MUST(a->post_send(wr));
    pair.run_idle();
    EXPECT_EQ(pair.b.cq->size(), 1u);
    EXPECT_EQ(pair.b.engine->counters().drops(DropReason::NoReceiveWqe), 1u);
    wr.sg_list[0].length = 2000;
    EXPECT_EQ(a->post_send(wr).error().code(), Errno::INVAL) << "UD larger than the MTU";
}

} // namespace
