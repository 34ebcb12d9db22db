// A corpus of malformed CM MADs fed to a listening engine: each is dropped
// and counted under its own reason, nothing else moves; REQs whose private
// data or path the RDMA CM refuses get the REJ Linux sends. Then seeded
// bit-flips of valid MADs, which must never crash (ASan/UBSan) and must all
// be accounted for.
#include "support/cm_test_harness.h"

#include <net/rdma/cm/lib/cma_header.h>

#include <random>

using namespace tessera;
using namespace tessera::test;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes valid_req(uint16_t port = 20001)
{
    CmReq req;
    req.local_comm_id = 0x03509147;
    req.service_id = tcp_service_id(port);
    req.local_ca_guid = 0x505400fffe000202;
    req.local_qpn = 0x11;
    req.responder_resources = 1;
    req.initiator_depth = 1;
    req.remote_cm_response_timeout = 20;
    req.starting_psn = 0x4a8570;
    req.local_cm_response_timeout = 20;
    req.retry_count = 7;
    req.path_mtu = 3;
    req.rnr_retry_count = 7;
    req.max_cm_retries = 15;
    req.primary_local_gid = gid_from_ipv4(CmPair::ip_b);
    req.primary_remote_gid = gid_from_ipv4(CmPair::ip_a);
    req.primary_local_ack_timeout = 19;
    encode_cma_header({ .source_port = 44462, .source = CmPair::ip_b, .destination = CmPair::ip_a },
        Span<uint8_t>(req.private_data, sizeof(req.private_data)));
    Bytes out(256);
    MUST(encode_req(req, form_tid(req.local_comm_id), Span<uint8_t>(out.data(), out.size())));
    return out;
}

Bytes short_message(CmAttribute attribute)
{
    Bytes out(256);
    auto wout = Span<uint8_t>(out.data(), out.size());
    switch (attribute) {
    case CmAttribute::Rej:
        MUST(
            encode_rej({ .local_comm_id = 5, .remote_comm_id = 6, .message_rejected = CmMessageKind::Other }, 1, wout));
        break;
    case CmAttribute::Mra:
        MUST(encode_mra({ .local_comm_id = 5, .remote_comm_id = 6 }, 1, wout));
        break;
    default:
        MUST(encode_rtu({ .local_comm_id = 5, .remote_comm_id = 6 }, 1, wout));
        out[17] = static_cast<uint8_t>(attribute);
        break;
    }
    return out;
}

Bytes with(Bytes mad, size_t offset, uint8_t value)
{
    mad[offset] = value;
    return mad;
}

struct Malformed {
    const char* name;
    Bytes mad;
    CmDrop reason;
};

std::vector<Malformed> corpus()
{
    Bytes req = valid_req();
    Bytes rtu = short_message(CmAttribute::Rtu);
    Bytes longer = req;
    longer.push_back(0);
    return {
        { "empty", {}, CmDrop::WrongLength },
        { "header only", Bytes(req.begin(), req.begin() + 24), CmDrop::WrongLength },
        { "one byte short", Bytes(req.begin(), req.end() - 1), CmDrop::WrongLength },
        { "one byte long", longer, CmDrop::WrongLength },
        { "base version 2", with(req, 0, 2), CmDrop::BadBaseVersion },
        { "base version 0", with(req, 0, 0), CmDrop::BadBaseVersion },
        { "subnet management class", with(req, 1, 0x01), CmDrop::NotCmClass },
        { "directed-route SM class", with(req, 1, 0x81), CmDrop::NotCmClass },
        { "SA class", with(req, 1, 0x03), CmDrop::NotCmClass },
        { "class version 1", with(req, 2, 1), CmDrop::BadClassVersion },
        { "class version 3", with(req, 2, 3), CmDrop::BadClassVersion },
        { "method Get", with(req, 3, 0x01), CmDrop::BadMethod },
        { "method Set", with(req, 3, 0x02), CmDrop::BadMethod },
        { "Send with the response bit", with(req, 3, 0x83), CmDrop::BadMethod },
        { "ClassPortInfo", with(with(req, 16, 0), 17, 0x01), CmDrop::UnknownAttribute },
        { "attribute 0x000F", with(req, 17, 0x0F), CmDrop::UnknownAttribute },
        { "attribute 0x001B", with(req, 17, 0x1B), CmDrop::UnknownAttribute },
        { "attribute 0x0110", with(req, 16, 0x01), CmDrop::UnknownAttribute },
        { "SIDR_REQ", short_message(CmAttribute::SidrReq), CmDrop::UnsupportedAttribute },
        { "SIDR_REP", short_message(CmAttribute::SidrRep), CmDrop::UnsupportedAttribute },
        { "LAP", short_message(CmAttribute::Lap), CmDrop::UnsupportedAttribute },
        { "APR", short_message(CmAttribute::Apr), CmDrop::UnsupportedAttribute },
        { "REQ with comm ID 0", with(with(with(with(req, 24, 0), 25, 0), 26, 0), 27, 0), CmDrop::BadField },
        { "REJ whose ARI length lies (73 > 72)", with(short_message(CmAttribute::Rej), 33, 73 << 1), CmDrop::BadField },
        { "REJ of reserved message kind 3", with(short_message(CmAttribute::Rej), 32, 0xC0), CmDrop::BadField },
        { "MRA of reserved message kind 3", with(short_message(CmAttribute::Mra), 32, 0xC0), CmDrop::BadField },
        { "RTU with remote ID 0", with(with(with(with(rtu, 28, 0), 29, 0), 30, 0), 31, 0), CmDrop::BadField },
        { "REP with remote ID 0", with(short_message(CmAttribute::Rep), 31, 0), CmDrop::BadField },
        { "RTU for no connection", rtu, CmDrop::UnknownConnection },
        { "REP for no connection", short_message(CmAttribute::Rep), CmDrop::UnknownConnection },
        { "DREP for no connection", short_message(CmAttribute::Drep), CmDrop::UnknownConnection },
        { "REJ for no connection", short_message(CmAttribute::Rej), CmDrop::UnknownConnection },
        { "MRA for no connection", short_message(CmAttribute::Mra), CmDrop::UnknownConnection },
    };
}

} // namespace

TEST(RdmaCmMalformed, EachIsDroppedAndCountedByItsReason)
{
    for (const auto& entry : corpus()) {
        SCOPED_TRACE(entry.name);
        CmPair pair;
        ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
        pair.a.engine->on_mad(CmPair::ip_b, Span<const uint8_t>(entry.mad.data(), entry.mad.size()), 0);
        const CmCounters& counters = pair.a.engine->counters();
        uint64_t total = 0;
        for (uint64_t n : counters.drops)
            total += n;
        EXPECT_EQ(counters.dropped(entry.reason), 1u) << cm_drop_name(entry.reason);
        EXPECT_EQ(total, 1u);
        EXPECT_TRUE(pair.a.sink.sent.empty());
        EXPECT_EQ(pair.a.engine->take_event().has_value(), false);
        EXPECT_EQ(pair.a.engine->live_connections(), 0u);
    }
}

TEST(RdmaCmMalformed, TheValidReqOfTheCorpusIsAccepted)
{
    // The corpus's base is itself good: without the planted defect, the
    // same REQ makes a ConnectRequest (so each drop above is the defect's).
    CmPair pair;
    pair.a.on_connect_request = nullptr;
    ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
    Bytes req = valid_req();
    pair.a.engine->on_mad(CmPair::ip_b, Span<const uint8_t>(req.data(), req.size()), 0);
    auto event = pair.a.engine->take_event();
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event.value().type, CmEventType::ConnectRequest);
    for (uint64_t n : pair.a.engine->counters().drops)
        EXPECT_EQ(n, 0u);
}

TEST(RdmaCmMalformed, RefusedReqsGetTheRejLinuxSends)
{
    struct Case {
        const char* name;
        size_t offset;
        uint8_t value;
        uint16_t reason;
        bool bad_cma;
    };
    const Case cases[] = {
        { "cma_version 1", 164, 0x01, 28, true },
        { "IPv6 cma_hdr", 165, 0x60, 28, true },
        { "ip_version 0", 165, 0x00, 28, true },
        { "cma_hdr low nibble", 165, 0x41, 28, true },
        { "cma_hdr source not zero-padded", 168 + 11, 0xff, 28, true },
        { "cma_hdr destination not ours", 184 + 15, 0x09, 28, true },
        { "UC transport", 67, 0xa2, 28, false },
        { "reserved transport type", 67, 0xa4, 28, false },
        { "path MTU 0", 74, 0x07, 28, false },
        { "path MTU 7", 74, 0x77, 28, false },
        { "alternate path present", 121, 0x01, 18, false },
        { "local GID not IPv4-mapped", 90, 0x00, 12, false },
        { "remote GID not IPv4-mapped", 96, 0xfe, 12, false },
        { "no listener on the port", 39, 0x0f, 8, false },
        { "not the TCP port space", 37, 0x11, 8, false },
        { "service ID high bits", 32, 0x01, 8, false },
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        CmPair pair;
        ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
        Bytes req = with(valid_req(), c.offset, c.value);
        pair.a.engine->on_mad(CmPair::ip_b, Span<const uint8_t>(req.data(), req.size()), 0);
        ASSERT_EQ(pair.a.sink.sent.size(), 1u);
        CmRej rej;
        ASSERT_EQ(decode_rej(Span<const uint8_t>(pair.a.sink.sent[0].data(), 256), rej), CmDrop::None);
        EXPECT_EQ(rej.reason, c.reason);
        EXPECT_EQ(rej.remote_comm_id, 0x03509147u);
        EXPECT_EQ(rej.local_comm_id, 0u);
        EXPECT_EQ(pair.a.engine->counters().bad_cma_headers, c.bad_cma ? 1u : 0u);
        EXPECT_EQ(pair.a.engine->live_connections(), 0u);
        EXPECT_FALSE(pair.a.engine->take_event().has_value());
        if (c.reason == 12) {
            EXPECT_EQ(rej.reject_info_length, 16); // our GID
        }
    }
}

TEST(RdmaCmMalformed, RandomBitFlipsNeverCrashAndAreAllAccounted)
{
    // Both engines mid-connection, then every kind of MAD with one to four
    // random bits flipped, thousands of times.
    CmPair pair;
    ASSERT_FALSE(pair.a.engine->listen(20001).is_error());
    pair.connect();
    pair.run_for(100 * ms);
    std::vector<Bytes> seeds = { valid_req(), short_message(CmAttribute::Rej), short_message(CmAttribute::Mra),
        short_message(CmAttribute::Rtu), short_message(CmAttribute::Rep), short_message(CmAttribute::Dreq),
        short_message(CmAttribute::Drep) };
    for (const auto& sent : pair.a.sink.sent)
        seeds.push_back(sent);
    for (const auto& sent : pair.b.sink.sent)
        seeds.push_back(sent);
    std::mt19937_64 rng(2024);
    const int rounds = 5000;
    for (int i = 0; i < rounds; ++i) {
        Bytes mad = seeds[rng() % seeds.size()];
        int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f)
            mad[rng() % mad.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
        if (rng() % 10 == 0)
            mad.resize(rng() % 300);
        CmSide& target = rng() % 2 ? pair.a : pair.b;
        target.engine->on_mad(CmPair::ip_b, Span<const uint8_t>(mad.data(), mad.size()), pair.now);
        pair.run_for(1 * ms);
    }
    pair.run_for(300'000 * ms);
    // Every MAD either passed the header (rx) or was dropped before it.
    uint64_t accounted = 0;
    for (CmSide* side : { &pair.a, &pair.b }) {
        for (uint64_t n : side->engine->counters().rx)
            accounted += n;
        accounted += side->engine->counters().drops[static_cast<size_t>(CmDrop::WrongLength)]
            + side->engine->counters().dropped(CmDrop::BadBaseVersion)
            + side->engine->counters().dropped(CmDrop::NotCmClass)
            + side->engine->counters().dropped(CmDrop::BadClassVersion)
            + side->engine->counters().dropped(CmDrop::BadMethod)
            + side->engine->counters().dropped(CmDrop::UnknownAttribute)
            + side->engine->counters().dropped(CmDrop::UnsupportedAttribute);
    }
    uint64_t delivered = pair.link_ab.counters().delivered + pair.link_ba.counters().delivered;
    EXPECT_EQ(accounted, static_cast<uint64_t>(rounds) + delivered);
    // Nothing leaks: after every timer has run, QPs and connections are gone
    // (the injected REQs may have made new ones, which time out).
    EXPECT_EQ(pair.a.qp_ops.live(), pair.a.engine->live_connections());
    EXPECT_EQ(pair.b.qp_ops.live(), pair.b.engine->live_connections());
}
