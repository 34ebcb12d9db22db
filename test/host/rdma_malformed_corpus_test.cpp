// A corpus of bad packets, each forged as a peer would send it, each
// dropped (or NAKed) under its own named reason, none crashing the engine.

#include <gtest/gtest.h>
#include <net/inet/lib/byte_order.h>
#include <net/rdma/lib/icrc.h>
#include <rdma_pair.h>

using namespace tessera;
using namespace tessera::test;
using namespace tessera::test::roce;

namespace {

class Corpus : public ::testing::Test {
protected:
    void SetUp() override { pair.connect({ .psn_a = 0x100 }); }

    // A packet from A's address to B's QP, as the engine itself would build it.
    std::vector<uint8_t> forge(Opcode opcode, uint32_t psn, std::vector<uint8_t> payload = {},
        const std::function<void(TransportHeaders&)>& tweak = nullptr, Ipv4Address source = ip_a)
    {
        TransportHeaders headers;
        headers.bth.opcode = opcode;
        headers.bth.dest_qpn = pair.b.qp->qp_num();
        headers.bth.psn = psn;
        headers.bth.ack_request = true;
        headers.deth.qkey = 0x1234;
        headers.deth.source_qpn = 5;
        if (tweak)
            tweak(headers);
        PacketAddressing addressing;
        addressing.source = source;
        addressing.destination = ip_b;
        std::vector<uint8_t> out(roce_max_packet_size);
        size_t size = MUST(build_roce_packet(addressing, headers, Span<const uint8_t>(payload.data(), payload.size()),
            Span<uint8_t>(out.data(), out.size())));
        out.resize(size);
        return out;
    }

    // After editing bytes past the UDP header, make the ICRC right again.
    static void reseal(std::vector<uint8_t>& packet)
    {
        Span<uint8_t> span(packet.data(), packet.size());
        MUST(store_icrc_ipv4(span.first(20), span.slice(20, 8), span.slice(28)));
    }

    uint64_t deliver(const std::vector<uint8_t>& packet, DropReason reason)
    {
        uint64_t before = pair.b.engine->counters().drops(reason);
        pair.b.engine->receive(Span<const uint8_t>(packet.data(), packet.size()), pair.now);
        return pair.b.engine->counters().drops(reason) - before;
    }

    RdmaPair pair;
};

TEST_F(Corpus, EachBadPacketCountedUnderItsReason)
{
    auto good = forge(Opcode::RcSendOnly, 0x100, { 1, 2, 3 });

    auto truncated = good;
    truncated.resize(good.size() - 5);
    EXPECT_EQ(deliver(truncated, DropReason::IpMalformed), 1u) << "IP total length longer than the packet";

    auto ip_short = good;
    ip_short.resize(12);
    EXPECT_EQ(deliver(ip_short, DropReason::IpMalformed), 1u);

    auto udp_lies = good;
    store_be16(Span<uint8_t>(udp_lies.data(), udp_lies.size()), 24, static_cast<uint16_t>(good.size() - 20 - 4));
    EXPECT_EQ(deliver(udp_lies, DropReason::UdpMalformed), 1u) << "UDP length shorter than the datagram";

    // Only 8 bytes of transport: IPv4/UDP lengths consistent, but less than a BTH.
    std::vector<uint8_t> tiny(good.begin(), good.begin() + 36);
    Span<uint8_t> t(tiny.data(), tiny.size());
    store_be16(t, 2, 36);
    store_be16(t, 10, 0);
    uint32_t sum = 0;
    for (size_t i = 0; i < 20; i += 2)
        sum += load_be16(t, i);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    store_be16(t, 10, static_cast<uint16_t>(~sum));
    store_be16(t, 24, 16);
    EXPECT_EQ(deliver(tiny, DropReason::Short), 1u);

    auto bad_icrc = good;
    bad_icrc[good.size() - 6] ^= 0x10;
    EXPECT_EQ(deliver(bad_icrc, DropReason::BadIcrc), 1u);

    auto bad_opcode = good;
    bad_opcode[28] = 0x1F;
    reseal(bad_opcode);
    EXPECT_EQ(deliver(bad_opcode, DropReason::UnknownOpcode), 1u);

    auto tver = good;
    tver[29] |= 0x01;
    reseal(tver);
    EXPECT_EQ(deliver(tver, DropReason::BadHeader), 1u);

    auto headers_short = forge(Opcode::RcWriteOnly, 0x100, {}, nullptr);
    headers_short.resize(headers_short.size() - 8); // cut into the RETH, lengths fixed below
    {
        Span<uint8_t> s(headers_short.data(), headers_short.size());
        store_be16(s, 2, static_cast<uint16_t>(headers_short.size()));
        store_be16(s, 10, 0);
        uint32_t c = 0;
        for (size_t i = 0; i < 20; i += 2)
            c += load_be16(s, i);
        while (c >> 16)
            c = (c & 0xFFFF) + (c >> 16);
        store_be16(s, 10, static_cast<uint16_t>(~c));
        store_be16(s, 24, static_cast<uint16_t>(headers_short.size() - 20));
        reseal(headers_short);
    }
    EXPECT_EQ(deliver(headers_short, DropReason::Short), 1u) << "shorter than its opcode's headers";

    EXPECT_EQ(
        deliver(forge(Opcode::RcSendOnly, 0x100, {}, [](auto& h) { h.bth.pkey = 0x1234; }), DropReason::BadPkey), 1u);
    EXPECT_EQ(
        deliver(forge(Opcode::RcSendOnly, 0x100, {}, [](auto& h) { h.bth.dest_qpn = 0x999; }), DropReason::UnknownQpn),
        1u);
    EXPECT_EQ(
        deliver(forge(Opcode::RcSendOnly, 0x100, {}, [](auto& h) { h.bth.dest_qpn = 0; }), DropReason::UnknownQpn), 1u);
    EXPECT_EQ(deliver(forge(Opcode::UdSendOnly, 0x100, { 1 }), DropReason::WrongTransport), 1u);
    EXPECT_EQ(deliver(forge(Opcode::RcSendOnly, 0x100, {}, nullptr, Ipv4Address { { 192, 0, 2, 3 } }),
                  DropReason::WrongSource),
        1u);

    auto wrong_port = good;
    store_be16(Span<uint8_t>(wrong_port.data(), wrong_port.size()), 22, 4792);
    EXPECT_EQ(deliver(wrong_port, DropReason::WrongPort), 1u);

    auto not_for_us = good;
    pair.a.engine->receive(Span<const uint8_t>(not_for_us.data(), not_for_us.size()), 0);
    EXPECT_EQ(pair.a.engine->counters().drops(DropReason::WrongDestination), 1u) << "addressed to B, given to A";

    // An ACK for a PSN A never sent.
    auto stale_ack = forge(Opcode::RcAcknowledge, 0x4000, {}, [&](auto& h) { h.bth.dest_qpn = pair.a.qp->qp_num(); });
    std::swap(stale_ack[12], stale_ack[16]); // B -> A addresses (the ICRC covers them: reseal)
    std::swap(stale_ack[13], stale_ack[17]);
    std::swap(stale_ack[14], stale_ack[18]);
    std::swap(stale_ack[15], stale_ack[19]);
    reseal(stale_ack);
    pair.a.engine->receive(Span<const uint8_t>(stale_ack.data(), stale_ack.size()), 0);
    EXPECT_EQ(pair.a.engine->counters().drops(DropReason::StaleResponse), 1u);

    // None of it reached the QP, and B is still healthy.
    EXPECT_EQ(pair.b.qp->state(), QpState::Rts);
    EXPECT_EQ(pair.b.engine->counters().received_packets, 0u);
}

TEST_F(Corpus, FuturePsnGetsOneSequenceNak)
{
    MUST(pair.b.qp->post_recv(make_recv(1, pair.b.sge(0, 100))));
    auto future = forge(Opcode::RcSendOnly, 0x100 + 500, { 1 });
    for (int i = 0; i < 3; ++i)
        pair.b.engine->receive(Span<const uint8_t>(future.data(), future.size()), 0);
    EXPECT_EQ(pair.b.engine->counters().out_of_sequence_request, 3u);
    EXPECT_EQ(pair.b.engine->counters().nak_sequence_sent, 1u);
    EXPECT_EQ(pair.b.qp->expected_psn(), 0x100u);
    EXPECT_EQ(pair.b.cq->size(), 0u);
}

TEST_F(Corpus, WrongOpcodeSequenceIsInvalidRequest)
{
    MUST(pair.b.qp->post_recv(make_recv(1, pair.b.sge(0, 100))));
    auto middle = forge(Opcode::RcSendMiddle, 0x100, std::vector<uint8_t>(1024, 7));
    pair.b.engine->receive(Span<const uint8_t>(middle.data(), middle.size()), 0);
    EXPECT_EQ(pair.b.engine->counters().nak_invalid_request_sent, 1u);
    EXPECT_EQ(pair.b.qp->state(), QpState::Err);
}

TEST_F(Corpus, ShortWriteFirstIsInvalidRequest)
{
    auto first = forge(Opcode::RcWriteFirst, 0x100, std::vector<uint8_t>(1000, 7), [&](auto& h) {
        h.reth = { pair.b.va(0), pair.b.mr->rkey(), 4000 };
    });
    pair.b.engine->receive(Span<const uint8_t>(first.data(), first.size()), 0);
    EXPECT_EQ(pair.b.engine->counters().nak_invalid_request_sent, 1u)
        << "non-last WRITE packets carry exactly path MTU";
    EXPECT_EQ(pair.b.buffer[0], 0);
}

TEST_F(Corpus, RkeyOutOfBoundsIsAccessError)
{
    auto write = forge(Opcode::RcWriteOnly, 0x100, std::vector<uint8_t>(16, 7), [&](auto& h) {
        h.reth = { pair.b.va(pair.b.buffer.size() - 8), pair.b.mr->rkey(), 16 };
    });
    pair.b.engine->receive(Span<const uint8_t>(write.data(), write.size()), 0);
    EXPECT_EQ(pair.b.engine->counters().nak_access_sent, 1u);
    EXPECT_EQ(pair.b.qp->state(), QpState::Err);
    // Now in ERR: later packets are dropped as such.
    pair.b.engine->receive(Span<const uint8_t>(write.data(), write.size()), 0);
    EXPECT_EQ(pair.b.engine->counters().drops(DropReason::BadState), 1u);
}

} // namespace
