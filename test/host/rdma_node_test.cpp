// RdmaNode: the RoCE engine and the CM composed (MADs on QP 1, CM QPs on the
// engine), end to end over SimulatedLinks: connect, SEND/RECV, RDMA WRITE
// and READ over the connected QPs, disconnect; REJ 8 for a closed port; a
// lossy link still yields exactly one connection.

#include <gtest/gtest.h>
#include <rdma_node_pair.h>

#include <cstring>

using namespace tessera;
using namespace tessera::test;
using namespace tessera::test::node;
using tessera::rdma::cm::CmEventType;

namespace {

constexpr uint64_t ms = 1'000'000;

void fill(std::vector<uint8_t>& buffer, size_t offset, size_t length, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < length; ++i) {
        x = x * 1103515245u + 12345u;
        buffer[offset + i] = static_cast<uint8_t>(x >> 16);
    }
}

SendWr make_wr(uint64_t id, WrOpcode opcode, Sge sge, uint64_t remote_addr = 0, uint32_t rkey = 0)
{
    SendWr wr;
    wr.wr_id = id;
    wr.opcode = opcode;
    wr.sg_list[0] = sge;
    wr.num_sge = 1;
    wr.remote_addr = remote_addr;
    wr.rkey = rkey;
    return wr;
}

RecvWr make_recv(uint64_t id, Sge sge)
{
    RecvWr wr;
    wr.wr_id = id;
    wr.sg_list[0] = sge;
    wr.num_sge = 1;
    return wr;
}

void connect(NodePair& pair, uint16_t port = 7174)
{
    MUST(pair.a.node->listen(port));
    pair.connect_b_to_a(port);
    ASSERT_TRUE(pair.run_until([&] { return pair.a.established_qp && pair.b.established_qp; }));
}

TEST(RdmaNode, LinkMtuToActiveMtu)
{
    EXPECT_EQ(path_mtu_for_link_mtu(1500), PathMtu::Mtu1024);
    EXPECT_EQ(path_mtu_for_link_mtu(9000), PathMtu::Mtu4096);
    EXPECT_EQ(path_mtu_for_link_mtu(2128), PathMtu::Mtu2048);
    EXPECT_EQ(path_mtu_for_link_mtu(2127), PathMtu::Mtu1024);
    EXPECT_EQ(path_mtu_for_link_mtu(100), PathMtu::Mtu256);
    uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    EXPECT_EQ(ca_guid_from_mac(mac), 0x505400fffe123456ull);
}

TEST(RdmaNode, ConnectTransferDisconnect)
{
    NodePair pair;
    connect(pair);
    EXPECT_EQ(pair.a.count(CmEventType::ConnectRequest), 1u);
    EXPECT_EQ(pair.a.count(CmEventType::Established), 1u);
    EXPECT_EQ(pair.b.count(CmEventType::Established), 1u);
    QueuePair* qa = pair.a.established_qp;
    QueuePair* qb = pair.b.established_qp;
    EXPECT_EQ(qa->state(), QpState::Rts);
    EXPECT_EQ(qb->state(), QpState::Rts);
    EXPECT_EQ(qa->attr().dest_qp_num, qb->qp_num());
    EXPECT_EQ(qb->attr().dest_qp_num, qa->qp_num());
    // Each side's first send PSN is what the other expects.
    EXPECT_EQ(qa->next_send_psn(), qb->expected_psn());
    EXPECT_EQ(qb->next_send_psn(), qa->expected_psn());

    for (uint32_t size : { 1u, 1000u, 1024u, 5000u, 65536u }) {
        SCOPED_TRACE(size);
        // SEND b -> a.
        fill(pair.b.buffer, 0, size, size);
        MUST(qa->post_recv(make_recv(1, pair.a.sge(0, 65536))));
        MUST(qb->post_send(make_wr(2, WrOpcode::Send, pair.b.sge(0, size))));
        std::vector<WorkCompletion> wa, wb;
        ASSERT_TRUE(pair.run_until([&] {
            auto x = pair.a.drain();
            wa.insert(wa.end(), x.begin(), x.end());
            auto y = pair.b.drain();
            wb.insert(wb.end(), y.begin(), y.end());
            return !wa.empty() && !wb.empty();
        }));
        ASSERT_EQ(wa[0].status, WcStatus::Success);
        EXPECT_EQ(wa[0].byte_len, size);
        EXPECT_EQ(wb[0].status, WcStatus::Success);
        EXPECT_EQ(0, memcmp(pair.a.buffer.data(), pair.b.buffer.data(), size));

        // WRITE b -> a at offset 128K.
        fill(pair.b.buffer, 0, size, size + 1);
        MUST(qb->post_send(make_wr(
            3, WrOpcode::RdmaWrite, pair.b.sge(0, size), pair.a.mr->virtual_address() + 131072, pair.a.mr->rkey())));
        wb.clear();
        ASSERT_TRUE(pair.run_until([&] {
            wb = pair.b.drain();
            return !wb.empty();
        }));
        ASSERT_EQ(wb[0].status, WcStatus::Success);
        EXPECT_EQ(0, memcmp(pair.a.buffer.data() + 131072, pair.b.buffer.data(), size));

        // READ a's region at 256K into b's at 512K.
        fill(pair.a.buffer, 262144, size, size + 2);
        MUST(qb->post_send(make_wr(4, WrOpcode::RdmaRead, pair.b.sge(524288, size),
            pair.a.mr->virtual_address() + 262144, pair.a.mr->rkey())));
        wb.clear();
        ASSERT_TRUE(pair.run_until([&] {
            wb = pair.b.drain();
            return !wb.empty();
        }));
        ASSERT_EQ(wb[0].status, WcStatus::Success);
        EXPECT_EQ(wb[0].opcode, WcOpcode::RdmaRead);
        EXPECT_EQ(0, memcmp(pair.b.buffer.data() + 524288, pair.a.buffer.data() + 262144, size));
    }

    MUST(pair.b.node->disconnect(pair.b.last(CmEventType::Established)->id(), pair.now));
    ASSERT_TRUE(pair.run_until(
        [&] { return pair.a.count(CmEventType::Disconnected) == 1 && pair.b.count(CmEventType::Disconnected) == 1; }));
    EXPECT_EQ(qa->state(), QpState::Err);
    EXPECT_EQ(qb->state(), QpState::Err);
    // After timewait the CM destroys both QPs.
    uint32_t qpn_a = qa->qp_num();
    uint32_t qpn_b = qb->qp_num();
    pair.run_for(5000 * ms);
    EXPECT_EQ(pair.a.node->engine().find_qp(qpn_a), nullptr);
    EXPECT_EQ(pair.b.node->engine().find_qp(qpn_b), nullptr);
    EXPECT_EQ(pair.a.node->cm().live_connections(), 0u);
    EXPECT_EQ(pair.b.node->cm().live_connections(), 0u);
    EXPECT_EQ(pair.a.node->counters().mad_bad_length, 0u);
    EXPECT_EQ(pair.a.node->counters().mad_send_no_slot, 0u);
}

TEST(RdmaNode, ClosedPortIsRejectedWithReason8)
{
    NodePair pair;
    MUST(pair.a.node->listen(7174));
    pair.connect_b_to_a(7175);
    ASSERT_TRUE(pair.run_until([&] { return pair.b.count(CmEventType::Rejected) == 1; }));
    EXPECT_EQ(pair.b.last(CmEventType::Rejected)->cm.reject_reason, 8);
    EXPECT_EQ(pair.b.last(CmEventType::Rejected)->qp, nullptr);
    EXPECT_EQ(pair.a.count(CmEventType::ConnectRequest), 0u);
    EXPECT_EQ(pair.b.node->cm().live_connections(), 0u);
}

TEST(RdmaNode, UserRejectIsReason28)
{
    NodePair pair;
    pair.a.on_connect_request
        = [&](NodeSide& side, const RdmaEvent& event) { MUST(side.node->reject(event.id(), pair.now)); };
    MUST(pair.a.node->listen(7174));
    pair.connect_b_to_a(7174);
    ASSERT_TRUE(pair.run_until([&] { return pair.b.count(CmEventType::Rejected) == 1; }));
    EXPECT_EQ(pair.b.last(CmEventType::Rejected)->cm.reject_reason, 28);
}

TEST(RdmaNode, LossyLinkConnectsExactlyOnce)
{
    for (uint64_t seed = 1; seed <= 20; ++seed) {
        SCOPED_TRACE(seed);
        NodePair pair({ .loss = 0.05, .seed = seed * 31 + 2 }, { .loss = 0.05, .seed = seed * 17 + 5 });
        connect(pair);
        pair.run_for(30'000 * ms);
        EXPECT_EQ(pair.a.count(CmEventType::ConnectRequest), 1u);
        EXPECT_EQ(pair.a.count(CmEventType::Established), 1u);
        EXPECT_EQ(pair.b.count(CmEventType::Established), 1u);
        EXPECT_EQ(pair.a.node->cm().live_connections(), 1u);
        EXPECT_EQ(pair.a.count(CmEventType::TimedOut) + pair.b.count(CmEventType::TimedOut), 0u);
    }
}

TEST(RdmaNode, ShortMadOnQp1IsCountedNotDelivered)
{
    NodePair pair;
    // A UD send of 100 bytes to a's QP 1, from a UD QP of b with the GSI Q_Key.
    auto& b = pair.b;
    QueuePair* ud
        = MUST(b.node->engine().create_qp({ .qp_type = QpType::Ud, .pd = b.pd, .send_cq = b.cq, .recv_cq = b.cq }));
    QpAttr attr;
    attr.qp_state = QpState::Init;
    attr.qkey = 0x80010000;
    MUST(ud->modify(attr, qp_attr_state | qp_attr_pkey_index | qp_attr_port | qp_attr_qkey));
    attr.qp_state = QpState::Rtr;
    MUST(ud->modify(attr, qp_attr_state));
    attr.qp_state = QpState::Rts;
    MUST(ud->modify(attr, qp_attr_state | qp_attr_sq_psn));
    SendWr wr = make_wr(9, WrOpcode::Send, b.sge(0, 100));
    wr.ah = { .destination = NodePair::ip_a };
    wr.remote_qpn = 1;
    wr.remote_qkey = 0x80010000;
    MUST(ud->post_send(wr));
    pair.run_for(10 * ms);
    EXPECT_EQ(pair.a.node->counters().mad_bad_length, 1u);
    EXPECT_EQ(pair.a.node->counters().mads_received, 0u);
}

} // namespace
