#include <kernel/lib/string.h>
#include <net/inet/lib/byte_order.h>
#include <net/rdma/cm/lib/cm_field_bits.h>
#include <net/rdma/cm/lib/cm_req.h>
#include <net/rdma/cm/lib/mad_header.h>

namespace tessera::rdma::cm {

// MAD offsets (CM offset + 24), docs/wire/rdma-cm.md 4.1.
namespace {
constexpr size_t alternate_path_offset = 120;
constexpr size_t private_data_offset = 164;
} // namespace

CmDrop decode_req(Span<const uint8_t> mad, CmReq& out)
{
    if (mad.size() != mad_size)
        return CmDrop::WrongLength;
    out.local_comm_id = load_be32(mad, 24);
    out.vendor_id = static_cast<uint32_t>(load_be(mad, 29, 3));
    out.service_id = load_be(mad, 32, 8);
    out.local_ca_guid = load_be(mad, 40, 8);
    out.local_qkey = load_be32(mad, 52);
    out.local_qpn = static_cast<uint32_t>(load_be(mad, 56, 3));
    out.responder_resources = mad[59];
    out.local_eecn = static_cast<uint32_t>(load_be(mad, 60, 3));
    out.initiator_depth = mad[63];
    out.remote_eecn = static_cast<uint32_t>(load_be(mad, 64, 3));
    out.remote_cm_response_timeout = mad[67] >> 3;
    out.transport_type = static_cast<TransportType>(mad[67] >> 1 & 0x3);
    out.end_to_end_flow_control = mad[67] & 0x1;
    out.starting_psn = static_cast<uint32_t>(load_be(mad, 68, 3));
    out.local_cm_response_timeout = mad[71] >> 3;
    out.retry_count = mad[71] & 0x7;
    out.pkey = load_be16(mad, 72);
    out.path_mtu = mad[74] >> 4;
    out.rdc_exists = mad[74] >> 3 & 0x1;
    out.rnr_retry_count = mad[74] & 0x7;
    out.max_cm_retries = mad[75] >> 4;
    out.srq = mad[75] >> 3 & 0x1;
    out.extended_transport_type = mad[75] & 0x7;
    out.primary_local_lid = load_be16(mad, 76);
    out.primary_remote_lid = load_be16(mad, 78);
    out.primary_local_gid = load_gid(mad, 80);
    out.primary_remote_gid = load_gid(mad, 96);
    out.primary_flow_label = load_be32(mad, 112) >> 12;
    out.primary_packet_rate = mad[115] & 0x3F;
    out.primary_traffic_class = mad[116];
    out.primary_hop_limit = mad[117];
    out.primary_sl = mad[118] >> 4;
    out.primary_subnet_local = mad[118] >> 3 & 0x1;
    out.primary_local_ack_timeout = mad[119] >> 3;
    load_bytes(mad, alternate_path_offset, out.alternate_path, req_alternate_path_size);
    load_bytes(mad, private_data_offset, out.private_data, req_private_data_size);
    if (out.local_comm_id == 0)
        return CmDrop::BadField;
    return CmDrop::None;
}

ErrorOr<void> encode_req(const CmReq& req, uint64_t transaction_id, Span<uint8_t> mad)
{
    if (mad.size() < mad_size)
        return Error(Errno::NOSPC, "REQ needs 256 bytes");
    bool fits = fits_bits(req.vendor_id, 24) && fits_bits(req.local_qpn, 24) && fits_bits(req.local_eecn, 24)
        && fits_bits(req.remote_eecn, 24) && fits_bits(req.remote_cm_response_timeout, 5)
        && fits_bits(static_cast<uint8_t>(req.transport_type), 2) && fits_bits(req.starting_psn, 24)
        && fits_bits(req.local_cm_response_timeout, 5) && fits_bits(req.retry_count, 3) && fits_bits(req.path_mtu, 4)
        && fits_bits(req.rnr_retry_count, 3) && fits_bits(req.max_cm_retries, 4)
        && fits_bits(req.extended_transport_type, 3) && fits_bits(req.primary_flow_label, 20)
        && fits_bits(req.primary_packet_rate, 6) && fits_bits(req.primary_sl, 4)
        && fits_bits(req.primary_local_ack_timeout, 5);
    if (!fits)
        return Error(Errno::INVAL, "REQ field too wide");

    Span<uint8_t> out = mad.first(mad_size);
    memset(out.data(), 0, mad_size);
    encode_mad_header(
        { .transaction_id = transaction_id, .attribute_id = static_cast<uint16_t>(CmAttribute::Req) }, out);
    store_be32(out, 24, req.local_comm_id);
    store_be(out, 29, 3, req.vendor_id);
    store_be(out, 32, 8, req.service_id);
    store_be(out, 40, 8, req.local_ca_guid);
    store_be32(out, 52, req.local_qkey);
    store_be(out, 56, 3, req.local_qpn);
    out[59] = req.responder_resources;
    store_be(out, 60, 3, req.local_eecn);
    out[63] = req.initiator_depth;
    store_be(out, 64, 3, req.remote_eecn);
    out[67] = static_cast<uint8_t>(req.remote_cm_response_timeout << 3 | static_cast<uint8_t>(req.transport_type) << 1
        | (req.end_to_end_flow_control ? 1 : 0));
    store_be(out, 68, 3, req.starting_psn);
    out[71] = static_cast<uint8_t>(req.local_cm_response_timeout << 3 | req.retry_count);
    store_be16(out, 72, req.pkey);
    out[74] = static_cast<uint8_t>(req.path_mtu << 4 | (req.rdc_exists ? 1 : 0) << 3 | req.rnr_retry_count);
    out[75] = static_cast<uint8_t>(req.max_cm_retries << 4 | (req.srq ? 1 : 0) << 3 | req.extended_transport_type);
    store_be16(out, 76, req.primary_local_lid);
    store_be16(out, 78, req.primary_remote_lid);
    store_gid(out, 80, req.primary_local_gid);
    store_gid(out, 96, req.primary_remote_gid);
    store_be32(out, 112, req.primary_flow_label << 12);
    out[115] = req.primary_packet_rate;
    out[116] = req.primary_traffic_class;
    out[117] = req.primary_hop_limit;
    out[118] = static_cast<uint8_t>(req.primary_sl << 4 | (req.primary_subnet_local ? 1 : 0) << 3);
    out[119] = static_cast<uint8_t>(req.primary_local_ack_timeout << 3);
    store_bytes(out, alternate_path_offset, req.alternate_path, req_alternate_path_size);
    store_bytes(out, private_data_offset, req.private_data, req_private_data_size);
    return {};
}

} // namespace tessera::rdma::cm
