#include <kernel/lib/string.h>
#include <net/inet/lib/byte_order.h>
#include <net/rdma/cm/lib/cm_field_bits.h>
#include <net/rdma/cm/lib/cm_messages.h>
#include <net/rdma/cm/lib/mad_header.h>

namespace tessera::rdma::cm {

namespace {

// Zeroes the MAD and writes the header and both comm IDs, which every short
// message starts with.
ErrorOr<Span<uint8_t>> begin_mad(
    Span<uint8_t> mad, CmAttribute attribute, uint64_t transaction_id, uint32_t local_id, uint32_t remote_id)
{
    if (mad.size() < mad_size)
        return Error(Errno::NOSPC, "a CM MAD needs 256 bytes");
    Span<uint8_t> out = mad.first(mad_size);
    memset(out.data(), 0, mad_size);
    encode_mad_header({ .transaction_id = transaction_id, .attribute_id = static_cast<uint16_t>(attribute) }, out);
    store_be32(out, 24, local_id);
    store_be32(out, 28, remote_id);
    return out;
}

} // namespace

CmDrop decode_rtu(Span<const uint8_t> mad, CmRtu& out)
{
    if (mad.size() != mad_size)
        return CmDrop::WrongLength;
    out.local_comm_id = load_be32(mad, 24);
    out.remote_comm_id = load_be32(mad, 28);
    load_bytes(mad, 32, out.private_data, rtu_private_data_size);
    return out.local_comm_id == 0 || out.remote_comm_id == 0 ? CmDrop::BadField : CmDrop::None;
}

CmDrop decode_rej(Span<const uint8_t> mad, CmRej& out)
{
    if (mad.size() != mad_size)
        return CmDrop::WrongLength;
    out.local_comm_id = load_be32(mad, 24);
    out.remote_comm_id = load_be32(mad, 28);
    uint8_t kind = mad[32] >> 6;
    out.message_rejected = static_cast<CmMessageKind>(kind);
    out.reject_info_length = mad[33] >> 1;
    out.reason = load_be16(mad, 34);
    load_bytes(mad, 36, out.additional_reject_info, rej_ari_size);
    load_bytes(mad, 108, out.private_data, rej_private_data_size);
    if (kind == 3 || out.reject_info_length > rej_ari_size)
        return CmDrop::BadField;
    return CmDrop::None;
}

CmDrop decode_mra(Span<const uint8_t> mad, CmMra& out)
{
    if (mad.size() != mad_size)
        return CmDrop::WrongLength;
    out.local_comm_id = load_be32(mad, 24);
    out.remote_comm_id = load_be32(mad, 28);
    uint8_t kind = mad[32] >> 6;
    out.message_mraed = static_cast<CmMessageKind>(kind);
    out.service_timeout = mad[33] >> 3;
    load_bytes(mad, 34, out.private_data, mra_private_data_size);
    if (kind == 3 || out.local_comm_id == 0)
        return CmDrop::BadField;
    return CmDrop::None;
}

CmDrop decode_dreq(Span<const uint8_t> mad, CmDreq& out)
{
    if (mad.size() != mad_size)
        return CmDrop::WrongLength;
    out.local_comm_id = load_be32(mad, 24);
    out.remote_comm_id = load_be32(mad, 28);
    out.remote_qpn = static_cast<uint32_t>(load_be(mad, 32, 3));
    load_bytes(mad, 36, out.private_data, dreq_private_data_size);
    return out.local_comm_id == 0 || out.remote_comm_id == 0 ? CmDrop::BadField : CmDrop::None;
}

CmDrop decode_drep(Span<const uint8_t> mad, CmDrep& out)
{
    if (mad.size() != mad_size)
        return CmDrop::WrongLength;
    out.local_comm_id = load_be32(mad, 24);
    out.remote_comm_id = load_be32(mad, 28);
    load_bytes(mad, 32, out.private_data, drep_private_data_size);
    return out.local_comm_id == 0 || out.remote_comm_id == 0 ? CmDrop::BadField : CmDrop::None;
}

ErrorOr<void> encode_rtu(const CmRtu& rtu, uint64_t transaction_id, Span<uint8_t> mad)
{
    auto out = TRY(begin_mad(mad, CmAttribute::Rtu, transaction_id, rtu.local_comm_id, rtu.remote_comm_id));
    store_bytes(out, 32, rtu.private_data, rtu_private_data_size);
    return {};
}

ErrorOr<void> encode_rej(const CmRej& rej, uint64_t transaction_id, Span<uint8_t> mad)
{
    if (static_cast<uint8_t>(rej.message_rejected) > 2 || rej.reject_info_length > rej_ari_size)
        return Error(Errno::INVAL, "REJ field out of range");
    auto out = TRY(begin_mad(mad, CmAttribute::Rej, transaction_id, rej.local_comm_id, rej.remote_comm_id));
    out[32] = static_cast<uint8_t>(static_cast<uint8_t>(rej.message_rejected) << 6);
    out[33] = static_cast<uint8_t>(rej.reject_info_length << 1);
    store_be16(out, 34, rej.reason);
    store_bytes(out, 36, rej.additional_reject_info, rej_ari_size);
    store_bytes(out, 108, rej.private_data, rej_private_data_size);
    return {};
}

ErrorOr<void> encode_mra(const CmMra& mra, uint64_t transaction_id, Span<uint8_t> mad)
{
    if (static_cast<uint8_t>(mra.message_mraed) > 2 || !fits_bits(mra.service_timeout, 5))
        return Error(Errno::INVAL, "MRA field out of range");
    auto out = TRY(begin_mad(mad, CmAttribute::Mra, transaction_id, mra.local_comm_id, mra.remote_comm_id));
    out[32] = static_cast<uint8_t>(static_cast<uint8_t>(mra.message_mraed) << 6);
    out[33] = static_cast<uint8_t>(mra.service_timeout << 3);
    store_bytes(out, 34, mra.private_data, mra_private_data_size);
    return {};
}

ErrorOr<void> encode_dreq(const CmDreq& dreq, uint64_t transaction_id, Span<uint8_t> mad)
{
    if (!fits_bits(dreq.remote_qpn, 24))
        return Error(Errno::INVAL, "DREQ QPN too wide");
    auto out = TRY(begin_mad(mad, CmAttribute::Dreq, transaction_id, dreq.local_comm_id, dreq.remote_comm_id));
    store_be(out, 32, 3, dreq.remote_qpn);
    store_bytes(out, 36, dreq.private_data, dreq_private_data_size);
    return {};
}

ErrorOr<void> encode_drep(const CmDrep& drep, uint64_t transaction_id, Span<uint8_t> mad)
{
    auto out = TRY(begin_mad(mad, CmAttribute::Drep, transaction_id, drep.local_comm_id, drep.remote_comm_id));
    store_bytes(out, 32, drep.private_data, drep_private_data_size);
    return {};
}

} // namespace tessera::rdma::cm
