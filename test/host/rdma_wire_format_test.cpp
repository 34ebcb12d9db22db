// What the engine puts on the wire, checked packet by packet against
// docs/wire/roce-v2.md: IPv4 with DF, TTL/TOS from the address vector and an
// incrementing ID; UDP 4791 with checksum 0 and rxe's source port; path-MTU
// segmentation with RETH only on WRITE FIRST/ONLY; AckReq on the last
// packet and at least every 64; a READ request consuming one PSN per
// response; a valid ICRC on everything.

#include <gtest/gtest.h>
#include <net/inet/lib/byte_order.h>
#include <net/rdma/lib/psn.h>
#include <rdma_pair.h>

using namespace tessera;
using namespace tessera::test;
using namespace tessera::test::roce;

namespace {

struct Captured {
    std::vector<uint8_t> bytes;
    ReceivedPacket parsed;
};

std::vector<Captured> capture(RdmaPair& pair, const std::function<void()>& post, size_t expected_completions)
{
    std::vector<std::vector<uint8_t>> raw;
    pair.sink_a().m_tap = [&](SimulatedLink::Packet& packet) { raw.push_back(packet); };
    post();
    EXPECT_TRUE(pair.run_until([&] { return pair.a.cq->size() == expected_completions; }));
    pair.sink_a().m_tap = nullptr;
    std::vector<Captured> out;
    for (auto& bytes : raw) {
        Captured c { bytes, {} };
        ParsedPacket parsed = parse_roce_packet(Span<const uint8_t>(c.bytes.data(), c.bytes.size()), ip_b);
        EXPECT_EQ(parsed.reason, DropReason::None) << drop_reason_name(parsed.reason);
        c.parsed = parsed.packet;
        out.push_back(std::move(c));
    }
    // parsed spans point into c.bytes: re-parse after the vector settled.
    for (auto& c : out)
        c.parsed = parse_roce_packet(Span<const uint8_t>(c.bytes.data(), c.bytes.size()), ip_b).packet;
    return out;
}

TEST(WireFormat, HeadersAndSegmentation)
{
    RdmaPair pair({}, {}, 1 << 20);
    pair.connect({ .mtu = PathMtu::Mtu1024, .psn_a = 0xFFFFFE });
    uint32_t length = 2 * 1024 + 510; // FIRST, MIDDLE, LAST with 2 pad bytes
    auto packets = capture(
        pair,
        [&] {
            MUST(pair.a.qp->post_send(
                make_wr(1, WrOpcode::RdmaWrite, pair.a.sge(0, length), pair.b.va(64), pair.b.mr->rkey())));
        },
        1);
    ASSERT_EQ(packets.size(), 3u);
    const Opcode expected[] = { Opcode::RcWriteFirst, Opcode::RcWriteMiddle, Opcode::RcWriteLast };
    for (size_t i = 0; i < 3; ++i) {
        const auto& bytes = packets[i].bytes;
        const auto& headers = packets[i].parsed.transport.headers;
        Span<const uint8_t> span(bytes.data(), bytes.size());
        EXPECT_EQ(bytes[0], 0x45);
        EXPECT_EQ(load_be16(span, 6), 0x4000) << "DF, no fragment";
        EXPECT_EQ(bytes[8], 1) << "TTL is the AV hop limit";
        EXPECT_EQ(bytes[9], 17);
        EXPECT_EQ(load_be16(span, 20), roce_udp_source_port(pair.a.qp->qp_num(), pair.b.qp->qp_num()));
        EXPECT_EQ(load_be16(span, 20) & 0xC000, 0xC000);
        EXPECT_EQ(load_be16(span, 22), 4791);
        EXPECT_EQ(load_be16(span, 26), 0) << "no UDP checksum";
        EXPECT_EQ(headers.bth.opcode, expected[i]);
        EXPECT_EQ(headers.bth.pkey, 0xFFFF);
        EXPECT_EQ(headers.bth.dest_qpn, pair.b.qp->qp_num());
        EXPECT_EQ(headers.bth.psn, psn_add(0xFFFFFE, static_cast<uint32_t>(i))) << "wraps 0xFFFFFF -> 0";
        EXPECT_EQ(headers.bth.ack_request, i == 2);
        EXPECT_EQ(packets[i].parsed.transport.payload.size(), i == 2 ? 510u : 1024u);
        EXPECT_EQ(headers.bth.pad_count, i == 2 ? 2 : 0);
        if (i > 0) {
            EXPECT_EQ(packets[i].parsed.addressing.identification,
                static_cast<uint16_t>(packets[i - 1].parsed.addressing.identification + 1));
        }
    }
    EXPECT_EQ(packets[0].parsed.transport.headers.reth.dma_length, length);
    EXPECT_EQ(packets[0].parsed.transport.headers.reth.virtual_address, pair.b.va(64));
    EXPECT_EQ(packets[0].parsed.transport.headers.reth.rkey, pair.b.mr->rkey());
}

TEST(WireFormat, AckRequestAtLeastEvery64AndWindowOf128)
{
    RdmaPair pair({}, {}, 1 << 20);
    pair.connect({ .mtu = PathMtu::Mtu256 });
    MUST(pair.b.qp->post_recv(make_recv(1, pair.b.sge(0, 1 << 19))));
    uint32_t packets_wanted = 300;
    std::vector<uint32_t> outstanding_max;
    auto packets = capture(
        pair, [&] { MUST(pair.a.qp->post_send(make_wr(1, WrOpcode::Send, pair.a.sge(0, 256 * packets_wanted)))); }, 1);
    ASSERT_EQ(packets.size(), packets_wanted);
    uint32_t since = 0;
    for (size_t i = 0; i < packets.size(); ++i) {
        ++since;
        if (packets[i].parsed.transport.headers.bth.ack_request)
            since = 0;
        ASSERT_LE(since, 64u) << "packet " << i;
    }
    EXPECT_TRUE(packets.back().parsed.transport.headers.bth.ack_request);
}

TEST(WireFormat, WindowStopsAt128UnackedPsns)
{
    RdmaPair pair({}, {}, 1 << 20);
    pair.connect({ .mtu = PathMtu::Mtu256 });
    pair.b_to_a().set_partitioned(true); // no ACK ever comes back
    size_t sent = 0;
    pair.sink_a().m_tap = [&](SimulatedLink::Packet&) { ++sent; };
    MUST(pair.b.qp->post_recv(make_recv(1, pair.b.sge(0, 1 << 19))));
    MUST(pair.a.qp->post_send(make_wr(1, WrOpcode::Send, pair.a.sge(0, 256 * 300))));
    pair.a.engine->poll(0);
    EXPECT_EQ(sent, 128u);
}

TEST(WireFormat, ReadRequestTakesOnePsnPerResponse)
{
    RdmaPair pair({}, {}, 1 << 20);
    pair.connect({ .mtu = PathMtu::Mtu1024, .psn_a = 10 });
    MUST(pair.b.qp->post_recv(make_recv(1, pair.b.sge(0, 64))));
    auto packets = capture(
        pair,
        [&] {
            MUST(pair.a.qp->post_send(
                make_wr(1, WrOpcode::RdmaRead, pair.a.sge(0, 5000), pair.b.va(0), pair.b.mr->rkey())));
            MUST(pair.a.qp->post_send(make_wr(2, WrOpcode::Send, pair.a.sge(0, 8))));
        },
        2);
    ASSERT_EQ(packets.size(), 2u);
    EXPECT_EQ(packets[0].parsed.transport.headers.bth.opcode, Opcode::RcReadRequest);
    EXPECT_EQ(packets[0].parsed.transport.headers.bth.psn, 10u);
    EXPECT_TRUE(packets[0].parsed.transport.headers.bth.ack_request);
    EXPECT_EQ(packets[0].parsed.transport.headers.reth.dma_length, 5000u);
    EXPECT_EQ(packets[1].parsed.transport.headers.bth.psn, 15u) << "5 response PSNs";
    EXPECT_EQ(pair.b.qp->msn(), 2u) << "the READ and the SEND";
}

} // namespace
