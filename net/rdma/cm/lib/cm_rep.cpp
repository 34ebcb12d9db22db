#include <kernel/lib/string.h>
#include <net/inet/lib/byte_order.h>
#include <net/rdma/cm/lib/cm_field_bits.h>
#include <net/rdma/cm/lib/cm_rep.h>
#include <net/rdma/cm/lib/mad_header.h>

namespace tessera::rdma::cm {

namespace {
constexpr size_t private_data_offset = 60;
} // namespace

CmDrop decode_rep(Span<const uint8_t> mad, CmRep& out)
{
    if (mad.size() != mad_size)
        return CmDrop::WrongLength;
    out.local_comm_id = load_be32(mad, 24);
    out.remote_comm_id = load_be32(mad, 28);
    out.local_qkey = load_be32(mad, 32);
    out.local_qpn = static_cast<uint32_t>(load_be(mad, 36, 3));
    out.local_eecn = static_cast<uint32_t>(load_be(mad, 40, 3));
    out.starting_psn = static_cast<uint32_t>(load_be(mad, 44, 3));
    out.vendor_id = static_cast<uint32_t>(mad[39]) << 16 | static_cast<uint32_t>(mad[43]) << 8 | mad[47];
    out.responder_resources = mad[48];
    out.initiator_depth = mad[49];
    out.target_ack_delay = mad[50] >> 3;
    out.failover_accepted = mad[50] >> 1 & 0x3;
    out.end_to_end_flow_control = mad[50] & 0x1;
    out.rnr_retry_count = mad[51] >> 5;
    out.srq = mad[51] >> 4 & 0x1;
    out.local_ca_guid = load_be(mad, 52, 8);
    load_bytes(mad, private_data_offset, out.private_data, rep_private_data_size);
    if (out.local_comm_id == 0 || out.remote_comm_id == 0)
        return CmDrop::BadField;
    return CmDrop::None;
}

ErrorOr<void> encode_rep(const CmRep& rep, uint64_t transaction_id, Span<uint8_t> mad)
{
    if (mad.size() < mad_size)
        return Error(Errno::NOSPC, "REP needs 256 bytes");
    bool fits = fits_bits(rep.local_qpn, 24) && fits_bits(rep.local_eecn, 24) && fits_bits(rep.starting_psn, 24)
        && fits_bits(rep.vendor_id, 24) && fits_bits(rep.target_ack_delay, 5) && fits_bits(rep.failover_accepted, 2)
        && fits_bits(rep.rnr_retry_count, 3);
    if (!fits)
        return Error(Errno::INVAL, "REP field too wide");

    Span<uint8_t> out = mad.first(mad_size);
    memset(out.data(), 0, mad_size);
    encode_mad_header(
        { .transaction_id = transaction_id, .attribute_id = static_cast<uint16_t>(CmAttribute::Rep) }, out);
    store_be32(out, 24, rep.local_comm_id);
    store_be32(out, 28, rep.remote_comm_id);
    store_be32(out, 32, rep.local_qkey);
    store_be(out, 36, 3, rep.local_qpn);
    out[39] = static_cast<uint8_t>(rep.vendor_id >> 16);
    store_be(out, 40, 3, rep.local_eecn);
    out[43] = static_cast<uint8_t>(rep.vendor_id >> 8);
    store_be(out, 44, 3, rep.starting_psn);
    out[47] = static_cast<uint8_t>(rep.vendor_id);
    out[48] = rep.responder_resources;
    out[49] = rep.initiator_depth;
    out[50] = static_cast<uint8_t>(
        rep.target_ack_delay << 3 | rep.failover_accepted << 1 | (rep.end_to_end_flow_control ? 1 : 0));
    out[51] = static_cast<uint8_t>(rep.rnr_retry_count << 5 | (rep.srq ? 1 : 0) << 4);
    store_be(out, 52, 8, rep.local_ca_guid);
    store_bytes(out, private_data_offset, rep.private_data, rep_private_data_size);
    return {};
}

} // namespace tessera::rdma::cm
