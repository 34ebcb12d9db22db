// The CM codecs against docs/wire/rdma-cm.md section 10: the rping capture's five
// MADs and the reject capture's REJ, byte for byte (decode gives the
// documented fields; encode of those fields gives the same 256 bytes).
#include <net/rdma/cm/lib/cm_ids.h>
#include <net/rdma/cm/lib/cm_messages.h>
#include <net/rdma/cm/lib/cm_rep.h>
#include <net/rdma/cm/lib/cm_req.h>
#include <net/rdma/cm/lib/cma_header.h>
#include <net/rdma/cm/lib/mad_header.h>
#include <net/rdma/cm/lib/qp_attributes.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

using namespace tessera;
using namespace tessera::rdma::cm;

namespace {

using Bytes = std::vector<uint8_t>;

// The doc's dump: hex digits in groups, a "NNNN:" offset ahead of each row;
// everything not given is zero up to 256 bytes.
Bytes mad_from_dump(const std::string& dump)
{
    Bytes out;
    std::string digits;
    size_t i = 0;
    while (i < dump.size()) {
        size_t colon = dump.find(':', i);
        size_t end = dump.find('\n', i);
        if (end == std::string::npos)
            end = dump.size();
        size_t start = colon != std::string::npos && colon < end ? colon + 1 : i;
        for (size_t j = start; j < end; ++j) {
            if (isxdigit(static_cast<unsigned char>(dump[j])))
                digits.push_back(dump[j]);
        }
        i = end + 1;
    }
    for (size_t k = 0; k + 1 < digits.size(); k += 2)
        out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(k, 2), nullptr, 16)));
    out.resize(256, 0);
    return out;
}

Span<const uint8_t> span(const Bytes& b) { return { b.data(), b.size() }; }

const Bytes req_vector = mad_from_dump(R"(
0000: 01070203 00000000 00000002 47915003 00100000 00000000 03509147 00000000
0020: 00000000 01064e21 505400ff fe000202 00000000 00000000 00001101 00000001
0040: 000000a0 4a8570a7 ffff37f0 ffffffff 00000000 00000000 0000ffff c0000202
0060: 00000000 00000000 0000ffff c0000201 55633000 00400098 00000000 00000000
0080: 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000
00a0: 00000000 0040adae 00000000 00000000 00000000 c0000202 00000000 00000000
00c0: 00000000 c0000201 00000000)");

const Bytes rep_vector = mad_from_dump(R"(
0000: 01070203 00000000 00000002 47915003 00130000 00000000 9a147d8d 03509147
0020: 00000000 00001100 00000000 be8aed00 010178e0 505400ff fe000201 00000000
0040: 00000000)");

const Bytes rtu_vector = mad_from_dump(R"(
0000: 01070203 00000000 00000002 47915003 00140000 00000000 03509147 9a147d8d
0020: 00000000)");

const Bytes dreq_vector = mad_from_dump(R"(
0000: 01070203 00000000 00000002 47915003 00150000 00000000 03509147 9a147d8d
0020: 00001100 00000000)");

const Bytes drep_vector = mad_from_dump(R"(
0000: 01070203 00000000 00000002 47915003 00160000 00000000 9a147d8d 03509147
0020: 00000000)");

const Bytes rej_vector = mad_from_dump(R"(
0000: 01070203 00000000 00000002 6efa8b98 00120000 00000000 00000000 988bfa6e
0020: 00000008 00000000)");

constexpr uint64_t rping_tid = 0x0000000247915003;
constexpr Ipv4Address ip_a { { 192, 0, 2, 1 } };
constexpr Ipv4Address ip_b { { 192, 0, 2, 2 } };

// The REQ of the rping capture built from its documented fields, not from
// its bytes.
CmReq documented_req()
{
    CmReq req;
    req.local_comm_id = 0x03509147;
    req.service_id = tcp_service_id(20001);
    req.local_ca_guid = 0x505400fffe000202;
    req.local_qpn = 0x11;
    req.responder_resources = 1;
    req.initiator_depth = 1;
    req.remote_cm_response_timeout = 20;
    req.starting_psn = 0x4a8570;
    req.local_cm_response_timeout = 20;
    req.retry_count = 7;
    req.pkey = 0xffff;
    req.path_mtu = 3;
    req.rnr_retry_count = 7;
    req.max_cm_retries = 15;
    req.primary_local_gid = gid_from_ipv4(ip_b);
    req.primary_remote_gid = gid_from_ipv4(ip_a);
    req.primary_flow_label = roce_flow_label(44462, 20001);
    req.primary_hop_limit = 64;
    req.primary_local_ack_timeout = 19;
    encode_cma_header({ .source_port = 44462, .source = ip_b, .destination = ip_a },
        Span<uint8_t>(req.private_data, sizeof(req.private_data)));
    return req;
}

CmRep documented_rep()
{
    CmRep rep;
    rep.local_comm_id = 0x9a147d8d;
    rep.remote_comm_id = 0x03509147;
    rep.local_qpn = 0x11;
    rep.starting_psn = 0xbe8aed;
    rep.responder_resources = 1;
    rep.initiator_depth = 1;
    rep.target_ack_delay = 15;
    rep.rnr_retry_count = 7;
    rep.local_ca_guid = 0x505400fffe000201;
    return rep;
}

} // namespace

TEST(RdmaCmIds, ServiceIdsTidsAndTimesAsLinux)
{
    EXPECT_EQ(tcp_service_id(20001), 0x0000000001064E21u);
    EXPECT_EQ(tcp_service_id(7174), 0x0000000001061C06u);
    EXPECT_EQ(tcp_service_id(9999), 0x000000000106270Fu);
    EXPECT_TRUE(is_tcp_service_id(0x0000000001064E21));
    EXPECT_FALSE(is_tcp_service_id(0x0000000001114E21)); // RDMA_PS_UDP
    EXPECT_EQ(port_from_service_id(0x0000000001064E21), 20001);
    EXPECT_EQ(form_tid(0x03509147), rping_tid);
    EXPECT_EQ(form_tid(0xa94ab03b), 0x000000023bb04aa9u); // the perftest capture's
    EXPECT_EQ(form_tid(0x988bfa6e), 0x000000026efa8b98u); // the reject capture's
    EXPECT_EQ(cm_time_ms(20), 4096u);
    EXPECT_EQ(cm_time_ms(19), 2048u);
    EXPECT_EQ(cm_time_ms(18), 1024u);
    EXPECT_EQ(cm_time_ms(0), 1u);
    EXPECT_EQ(cm_ack_timeout(15, 18), 19);
    EXPECT_EQ(cm_ack_timeout(0, 18), 19);
    EXPECT_EQ(cm_ack_timeout(17, 18), 19);
    EXPECT_EQ(cm_ack_timeout(25, 18), 25);
    EXPECT_EQ(cm_ack_timeout(31, 31), 31); // capped
    EXPECT_EQ(roce_flow_label(44462, 20001), 0x55633u);
    EXPECT_EQ(ipv4_from_gid(gid_from_ipv4(ip_a)).value(), ip_a);
    Gid link_local {};
    link_local.bytes[0] = 0xfe;
    link_local.bytes[1] = 0x80;
    EXPECT_FALSE(ipv4_from_gid(link_local).has_value());
}

TEST(RdmaCmCodec, MadHeaderOfTheRpingReq)
{
    MadHeader header;
    ASSERT_EQ(decode_mad_header(span(req_vector), header), CmDrop::None);
    EXPECT_EQ(header.base_version, 1);
    EXPECT_EQ(header.mgmt_class, 0x07);
    EXPECT_EQ(header.class_version, 2);
    EXPECT_EQ(header.method, 0x03);
    EXPECT_EQ(header.status, 0);
    EXPECT_EQ(header.transaction_id, rping_tid);
    EXPECT_EQ(header.attribute_id, 0x0010);
    EXPECT_EQ(header.attribute_modifier, 0u);
    Bytes out(24);
    encode_mad_header(header, Span<uint8_t>(out.data(), out.size()));
    EXPECT_EQ(out, Bytes(req_vector.begin(), req_vector.begin() + 24));
}

TEST(RdmaCmCodec, DecodesTheRpingReqAsDocumented)
{
    CmReq req;
    ASSERT_EQ(decode_req(span(req_vector), req), CmDrop::None);
    EXPECT_EQ(req.local_comm_id, 0x03509147u);
    EXPECT_EQ(req.service_id, 0x0000000001064e21u);
    EXPECT_EQ(req.local_ca_guid, 0x505400fffe000202u);
    EXPECT_EQ(req.local_qkey, 0u);
    EXPECT_EQ(req.local_qpn, 0x11u);
    EXPECT_EQ(req.responder_resources, 1);
    EXPECT_EQ(req.initiator_depth, 1);
    EXPECT_EQ(req.remote_cm_response_timeout, 20);
    EXPECT_EQ(req.transport_type, TransportType::Rc);
    EXPECT_FALSE(req.end_to_end_flow_control);
    EXPECT_EQ(req.starting_psn, 0x4a8570u);
    EXPECT_EQ(req.local_cm_response_timeout, 20);
    EXPECT_EQ(req.retry_count, 7);
    EXPECT_EQ(req.pkey, 0xffff);
    EXPECT_EQ(req.path_mtu, 3);
    EXPECT_EQ(req.rnr_retry_count, 7);
    EXPECT_EQ(req.max_cm_retries, 15);
    EXPECT_EQ(req.primary_local_lid, 0xffff);
    EXPECT_EQ(req.primary_remote_lid, 0xffff);
    EXPECT_EQ(req.primary_local_gid, gid_from_ipv4(ip_b));
    EXPECT_EQ(req.primary_remote_gid, gid_from_ipv4(ip_a));
    EXPECT_EQ(req.primary_flow_label, 0x55633u);
    EXPECT_EQ(req.primary_packet_rate, 0);
    EXPECT_EQ(req.primary_traffic_class, 0);
    EXPECT_EQ(req.primary_hop_limit, 64);
    EXPECT_EQ(req.primary_sl, 0);
    EXPECT_FALSE(req.primary_subnet_local);
    EXPECT_EQ(req.primary_local_ack_timeout, 19);
    EXPECT_FALSE(req.has_alternate_path());

    CmaHeader cma;
    ASSERT_EQ(
        decode_cma_header(Span<const uint8_t>(req.private_data, sizeof(req.private_data)), cma), CmaHeaderError::None);
    EXPECT_EQ(cma.cma_version, 0);
    EXPECT_EQ(cma.ip_version, 4);
    EXPECT_EQ(cma.source_port, 44462);
    EXPECT_EQ(cma.source, ip_b);
    EXPECT_EQ(cma.destination, ip_a);
}

TEST(RdmaCmCodec, EncodesTheRpingReqByteForByte)
{
    Bytes out(256, 0xAA); // poison: the encoder must write every byte
    ASSERT_FALSE(encode_req(documented_req(), rping_tid, Span<uint8_t>(out.data(), out.size())).is_error());
    EXPECT_EQ(out, req_vector);

    // And decode -> encode is the identity on the capture.
    CmReq req;
    ASSERT_EQ(decode_req(span(req_vector), req), CmDrop::None);
    Bytes again(256);
    ASSERT_FALSE(encode_req(req, rping_tid, Span<uint8_t>(again.data(), again.size())).is_error());
    EXPECT_EQ(again, req_vector);
}

TEST(RdmaCmCodec, EveryBitOfTheReqRoundTrips)
{
    // The planted failure for the byte-for-byte checks: any one flipped bit
    // of the vector must either be refused or come back flipped, never be
    // lost or moved by a decode/encode pair (reserved bits excepted: the
    // encoder zeroes them, as Linux does).
    const std::vector<std::pair<size_t, uint8_t>> reserved = { { 18, 0xff }, { 19, 0xff }, { 28, 0xff }, { 48, 0xff },
        { 49, 0xff }, { 50, 0xff }, { 51, 0xff }, { 114, 0x0f }, { 115, 0xc0 }, { 118, 0x07 }, { 119, 0x07 } };
    for (size_t bit = 0; bit < 256 * 8; ++bit) {
        size_t byte = bit / 8;
        uint8_t mask = static_cast<uint8_t>(1u << (bit % 8));
        bool is_reserved = false;
        for (auto [offset, bits] : reserved)
            is_reserved |= offset == byte && (bits & mask);
        Bytes flipped = req_vector;
        flipped[byte] ^= mask;
        MadHeader header;
        CmReq req;
        if (decode_mad_header(span(flipped), header) != CmDrop::None || decode_req(span(flipped), req) != CmDrop::None)
            continue;
        if (header.attribute_id != static_cast<uint16_t>(CmAttribute::Req))
            continue; // now another message's header: not a REQ any more
        Bytes out(256);
        ASSERT_FALSE(encode_req(req, header.transaction_id, Span<uint8_t>(out.data(), out.size())).is_error());
        if (header.attribute_modifier != 0 || header.status != 0 || header.class_specific != 0) {
            // The encoder writes our header fields, which carry these zero.
            continue;
        }
        EXPECT_EQ(out == flipped, !is_reserved) << "bit " << bit;
    }
}

TEST(RdmaCmCodec, RepOfTheCapture)
{
    CmRep rep;
    ASSERT_EQ(decode_rep(span(rep_vector), rep), CmDrop::None);
    EXPECT_EQ(rep.local_comm_id, 0x9a147d8du);
    EXPECT_EQ(rep.remote_comm_id, 0x03509147u);
    EXPECT_EQ(rep.local_qkey, 0u);
    EXPECT_EQ(rep.local_qpn, 0x11u);
    EXPECT_EQ(rep.starting_psn, 0xbe8aedu);
    EXPECT_EQ(rep.responder_resources, 1);
    EXPECT_EQ(rep.initiator_depth, 1);
    EXPECT_EQ(rep.target_ack_delay, 15);
    EXPECT_EQ(rep.failover_accepted, 0);
    EXPECT_FALSE(rep.end_to_end_flow_control);
    EXPECT_EQ(rep.rnr_retry_count, 7);
    EXPECT_FALSE(rep.srq);
    EXPECT_EQ(rep.local_ca_guid, 0x505400fffe000201u);
    Bytes out(256, 0xAA);
    ASSERT_FALSE(encode_rep(documented_rep(), rping_tid, Span<uint8_t>(out.data(), out.size())).is_error());
    EXPECT_EQ(out, rep_vector);
}

TEST(RdmaCmCodec, RepVendorIdIsSplitOverThreeBytes)
{
    CmRep rep = documented_rep();
    rep.vendor_id = 0xABCDEF;
    Bytes out(256);
    ASSERT_FALSE(encode_rep(rep, rping_tid, Span<uint8_t>(out.data(), out.size())).is_error());
    EXPECT_EQ(out[39], 0xAB);
    EXPECT_EQ(out[43], 0xCD);
    EXPECT_EQ(out[47], 0xEF);
    CmRep back;
    ASSERT_EQ(decode_rep(span(out), back), CmDrop::None);
    EXPECT_EQ(back.vendor_id, 0xABCDEFu);
    EXPECT_EQ(back.local_qpn, 0x11u);
    EXPECT_EQ(back.starting_psn, 0xbe8aedu);
}

TEST(RdmaCmCodec, RtuDreqDrepOfTheCapture)
{
    CmRtu rtu;
    ASSERT_EQ(decode_rtu(span(rtu_vector), rtu), CmDrop::None);
    EXPECT_EQ(rtu.local_comm_id, 0x03509147u);
    EXPECT_EQ(rtu.remote_comm_id, 0x9a147d8du);
    CmDreq dreq;
    ASSERT_EQ(decode_dreq(span(dreq_vector), dreq), CmDrop::None);
    EXPECT_EQ(dreq.local_comm_id, 0x03509147u);
    EXPECT_EQ(dreq.remote_comm_id, 0x9a147d8du);
    EXPECT_EQ(dreq.remote_qpn, 0x11u);
    CmDrep drep;
    ASSERT_EQ(decode_drep(span(drep_vector), drep), CmDrop::None);
    EXPECT_EQ(drep.local_comm_id, 0x9a147d8du);
    EXPECT_EQ(drep.remote_comm_id, 0x03509147u);

    Bytes out(256, 0xAA);
    auto wout = Span<uint8_t>(out.data(), out.size());
    ASSERT_FALSE(encode_rtu({ .local_comm_id = 0x03509147, .remote_comm_id = 0x9a147d8d }, rping_tid, wout).is_error());
    EXPECT_EQ(out, rtu_vector);
    ASSERT_FALSE(
        encode_dreq({ .local_comm_id = 0x03509147, .remote_comm_id = 0x9a147d8d, .remote_qpn = 0x11 }, rping_tid, wout)
            .is_error());
    EXPECT_EQ(out, dreq_vector);
    ASSERT_FALSE(
        encode_drep({ .local_comm_id = 0x9a147d8d, .remote_comm_id = 0x03509147 }, rping_tid, wout).is_error());
    EXPECT_EQ(out, drep_vector);
}

TEST(RdmaCmCodec, RejOfTheRejectCapture)
{
    CmRej rej;
    ASSERT_EQ(decode_rej(span(rej_vector), rej), CmDrop::None);
    EXPECT_EQ(rej.local_comm_id, 0u);
    EXPECT_EQ(rej.remote_comm_id, 0x988bfa6eu);
    EXPECT_EQ(rej.message_rejected, CmMessageKind::Req);
    EXPECT_EQ(rej.reject_info_length, 0);
    EXPECT_EQ(rej.reason, 8);
    Bytes out(256, 0xAA);
    CmRej built;
    built.remote_comm_id = 0x988bfa6e;
    built.reason = static_cast<uint16_t>(RejectReason::InvalidServiceId);
    ASSERT_FALSE(encode_rej(built, form_tid(0x988bfa6e), Span<uint8_t>(out.data(), out.size())).is_error());
    EXPECT_EQ(out, rej_vector);
}

TEST(RdmaCmCodec, MraRoundTrips)
{
    CmMra mra { .local_comm_id = 0x9a147d8d,
        .remote_comm_id = 0x03509147,
        .message_mraed = CmMessageKind::Rep,
        .service_timeout = 24 };
    Bytes out(256);
    ASSERT_FALSE(encode_mra(mra, rping_tid, Span<uint8_t>(out.data(), out.size())).is_error());
    EXPECT_EQ(out[16], 0x00);
    EXPECT_EQ(out[17], 0x11);
    EXPECT_EQ(out[32], 0x40); // REP in bits 7..6
    EXPECT_EQ(out[33], 24 << 3);
    CmMra back;
    ASSERT_EQ(decode_mra(span(out), back), CmDrop::None);
    EXPECT_EQ(back.message_mraed, CmMessageKind::Rep);
    EXPECT_EQ(back.service_timeout, 24);
    EXPECT_EQ(back.remote_comm_id, 0x03509147u);
}

TEST(RdmaCmCodec, EncodersRefuseFieldsTooWideAndShortBuffers)
{
    Bytes out(256);
    auto wout = Span<uint8_t>(out.data(), out.size());
    CmReq req = documented_req();
    req.local_qpn = 0x1000000;
    EXPECT_EQ(encode_req(req, 0, wout).error().code(), Errno::INVAL);
    req = documented_req();
    req.retry_count = 8;
    EXPECT_EQ(encode_req(req, 0, wout).error().code(), Errno::INVAL);
    req = documented_req();
    req.primary_flow_label = 0x100000;
    EXPECT_EQ(encode_req(req, 0, wout).error().code(), Errno::INVAL);
    CmRep rep = documented_rep();
    rep.target_ack_delay = 32;
    EXPECT_EQ(encode_rep(rep, 0, wout).error().code(), Errno::INVAL);
    CmRej rej;
    rej.reject_info_length = 73;
    EXPECT_EQ(encode_rej(rej, 0, wout).error().code(), Errno::INVAL);
    EXPECT_EQ(encode_dreq({ .remote_qpn = 0x1000000 }, 0, wout).error().code(), Errno::INVAL);
    Bytes short_buffer(255);
    EXPECT_EQ(encode_rtu({}, 0, Span<uint8_t>(short_buffer.data(), short_buffer.size())).error().code(), Errno::NOSPC);
    EXPECT_EQ(encode_req(documented_req(), 0, Span<uint8_t>(short_buffer.data(), short_buffer.size())).error().code(),
        Errno::NOSPC);
}

TEST(RdmaCmCodec, CmaHeaderRefusals)
{
    CmReq req = documented_req();
    Span<uint8_t> pd(req.private_data, sizeof(req.private_data));
    CmaHeader cma;
    pd[0] = 1;
    EXPECT_EQ(decode_cma_header(pd, cma), CmaHeaderError::BadVersion);
    pd[0] = 0;
    pd[1] = 0x60;
    EXPECT_EQ(decode_cma_header(pd, cma), CmaHeaderError::NotIpv4);
    pd[1] = 0x41;
    EXPECT_EQ(decode_cma_header(pd, cma), CmaHeaderError::BadLowNibble);
    pd[1] = 0x40;
    pd[14] = 0xff; // ::ffff:-mapped instead of zero-padded
    EXPECT_EQ(decode_cma_header(pd, cma), CmaHeaderError::BadAddressPadding);
    EXPECT_EQ(decode_cma_header(pd.first(35), cma), CmaHeaderError::TooShort);
}

TEST(RdmaCmQpAttributes, DerivedAsSection66SaysFromTheCapture)
{
    CmReq req;
    CmRep rep;
    ASSERT_EQ(decode_req(span(req_vector), req), CmDrop::None);
    ASSERT_EQ(decode_rep(span(rep_vector), rep), CmDrop::None);

    // The server's QP: its first PSN on the wire was the REQ's 0x4a8570 [W].
    QpAttributes passive = passive_qp_attributes(req, rep, 64);
    EXPECT_EQ(passive.init.access_flags,
        QpAccessLocalWrite | QpAccessRemoteWrite | QpAccessRemoteRead | QpAccessRemoteAtomic);
    EXPECT_EQ(passive.rtr.destination, ip_b);
    EXPECT_EQ(passive.rtr.source, ip_a);
    EXPECT_EQ(passive.rtr.path_mtu, 3);
    EXPECT_EQ(passive.rtr.dest_qpn, 0x11u);
    EXPECT_EQ(passive.rtr.rq_psn, 0xbe8aedu);
    EXPECT_EQ(passive.rtr.flow_label, 0x55633u);
    EXPECT_EQ(passive.rtr.max_dest_rd_atomic, 1);
    EXPECT_EQ(passive.rtr.min_rnr_timer, 0);
    EXPECT_EQ(passive.rts.sq_psn, 0x4a8570u);
    EXPECT_EQ(passive.rts.timeout, 19);
    EXPECT_EQ(passive.rts.retry_count, 7);
    EXPECT_EQ(passive.rts.rnr_retry, 7);
    EXPECT_EQ(passive.rts.max_rd_atomic, 1);

    // The client's: its first PSN was the REP's 0xbe8aed [W].
    QpAttributes active = active_qp_attributes(req, rep, 18);
    EXPECT_EQ(active.rtr.destination, ip_a);
    EXPECT_EQ(active.rtr.dest_qpn, 0x11u);
    EXPECT_EQ(active.rtr.rq_psn, 0x4a8570u);
    EXPECT_EQ(active.rtr.max_dest_rd_atomic, 1);
    EXPECT_EQ(active.rts.sq_psn, 0xbe8aedu);
    EXPECT_EQ(active.rts.timeout, 19);
    EXPECT_EQ(active.rts.rnr_retry, 7);
    EXPECT_EQ(active.rts.max_rd_atomic, 1);

    // No responder resources: no READ or ATOMIC access (perftest send_lat).
    EXPECT_EQ(qp_access_flags(0), QpAccessLocalWrite | QpAccessRemoteWrite);
    req.primary_local_ack_timeout = 0;
    EXPECT_EQ(passive_qp_attributes(req, rep, 64).rts.timeout, 1);
}
