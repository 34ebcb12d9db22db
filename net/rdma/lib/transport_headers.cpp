#include <net/inet/lib/byte_order.h>
#include <net/rdma/lib/psn.h>
#include <net/rdma/lib/transport_headers.h>

namespace tessera::rdma {

namespace {

// Field widths up to 32 bits, read big-endian from spans whose size the
// caller has checked.
uint32_t read_be(Span<const uint8_t> bytes, size_t offset, size_t count)
{
    return static_cast<uint32_t>(load_be(bytes, offset, count));
}

// BTH byte 1 (docs/wire/roce-v2.md "Headers", rxe_hdr.h struct rxe_bth).
constexpr uint8_t bth_se = 0x80;
constexpr uint8_t bth_m = 0x40;
constexpr uint8_t bth_pad_shift = 4;
constexpr uint8_t bth_pad_mask = 0x30;
constexpr uint8_t bth_tver_mask = 0x0f;
// BTH byte 4 and byte 8.
constexpr uint8_t bth_fecn = 0x80;
constexpr uint8_t bth_becn = 0x40;
constexpr uint8_t bth_ack_request = 0x80;

ErrorOr<Aeth> decode_aeth(Span<const uint8_t> bytes)
{
    Aeth aeth;
    uint8_t syndrome = bytes[0];
    aeth.value = syndrome & 0x1F;
    aeth.msn = read_be(bytes, 1, 3);
    switch (syndrome >> 5) {
    case 0:
        aeth.kind = AethKind::Ack;
        break;
    case 1:
        aeth.kind = AethKind::RnrNak;
        break;
    case 3:
        aeth.kind = AethKind::Nak;
        if (aeth.value > static_cast<uint8_t>(NakCode::InvalidRdRequest))
            return Error(Errno::PROTO, "AETH: reserved NAK code");
        break;
    default:
        return Error(Errno::PROTO, "AETH: reserved syndrome");
    }
    return aeth;
}

} // namespace

ErrorOr<DecodedPacket> decode_packet(Span<const uint8_t> packet)
{
    if (packet.size() < bth_size + icrc_size)
        return Error(Errno::MSGSIZE, "RoCE packet shorter than BTH + ICRC");
    DecodedPacket decoded;
    decoded.info = find_opcode(packet[0]);
    if (decoded.info == nullptr)
        return Error(Errno::NOSYS, "BTH: unknown or unsupported opcode");
    const OpcodeInfo& info = *decoded.info;
    if ((packet[1] & bth_tver_mask) != 0)
        return Error(Errno::PROTO, "BTH: TVer is not 0");

    Bth& bth = decoded.headers.bth;
    bth.opcode = info.opcode;
    bth.solicited = (packet[1] & bth_se) != 0;
    bth.migrated = (packet[1] & bth_m) != 0;
    bth.pad_count = static_cast<uint8_t>((packet[1] & bth_pad_mask) >> bth_pad_shift);
    bth.pkey = static_cast<uint16_t>(read_be(packet, 2, 2));
    bth.fecn = (packet[4] & bth_fecn) != 0;
    bth.becn = (packet[4] & bth_becn) != 0;
    bth.dest_qpn = read_be(packet, 5, 3);
    // Byte 8's low 7 bits are reserved: ignored on receive as IBA says.
    bth.ack_request = (packet[8] & bth_ack_request) != 0;
    bth.psn = read_be(packet, 9, 3);

    size_t headers_size = bth_size + info.extension_size();
    if (packet.size() < headers_size + icrc_size)
        return Error(Errno::MSGSIZE, "RoCE packet shorter than its headers + ICRC");
    size_t data_size = packet.size() - headers_size - icrc_size; // payload + pad
    if (!info.has(header_payload) && (data_size != 0 || bth.pad_count != 0))
        return Error(Errno::PROTO, "RoCE packet: data on an opcode that carries none");
    if (bth.pad_count > data_size)
        return Error(Errno::PROTO, "BTH: pad count larger than the payload");

    // Extension headers in wire order: DETH, RETH, AETH, ImmDt (IBA 9.2).
    size_t offset = bth_size;
    if (info.has(header_deth)) {
        decoded.headers.deth.qkey = read_be(packet, offset, 4);
        decoded.headers.deth.source_qpn = read_be(packet, offset + 5, 3);
        offset += deth_size;
    }
    if (info.has(header_reth)) {
        Reth& reth = decoded.headers.reth;
        reth.virtual_address = load_be(packet, offset, 8);
        reth.rkey = read_be(packet, offset + 8, 4);
        reth.dma_length = read_be(packet, offset + 12, 4);
        offset += reth_size;
    }
    if (info.has(header_aeth)) {
        decoded.headers.aeth = TRY(decode_aeth(packet.slice(offset, aeth_size)));
        offset += aeth_size;
    }
    if (info.has(header_immdt)) {
        decoded.headers.immediate = read_be(packet, offset, 4);
        offset += immdt_size;
    }
    decoded.payload = packet.slice(offset, data_size - bth.pad_count);
    return decoded;
}

ErrorOr<size_t> encoded_size(Opcode opcode, size_t payload_size)
{
    const OpcodeInfo* info = find_opcode(static_cast<uint8_t>(opcode));
    if (info == nullptr)
        return Error(Errno::NOSYS, "unknown or unsupported opcode");
    if (!info->has(header_payload) && payload_size != 0)
        return Error(Errno::INVAL, "data on an opcode that carries none");
    size_t pad = (0 - payload_size) & 3;
    size_t size = bth_size + info->extension_size() + icrc_size;
    if (__builtin_add_overflow(size, payload_size + pad, &size))
        return Error(Errno::INVAL, "payload too large");
    return size;
}

ErrorOr<size_t> encode_packet(const TransportHeaders& headers, Span<const uint8_t> payload, Span<uint8_t> out)
{
    const Bth& bth = headers.bth;
    size_t size = TRY(encoded_size(bth.opcode, payload.size()));
    const OpcodeInfo& info = *find_opcode(static_cast<uint8_t>(bth.opcode));
    if (bth.dest_qpn > psn_mask || bth.psn > psn_mask)
        return Error(Errno::INVAL, "BTH: QPN or PSN wider than 24 bits");
    if (info.has(header_deth) && headers.deth.source_qpn > psn_mask)
        return Error(Errno::INVAL, "DETH: source QPN wider than 24 bits");
    if (info.has(header_aeth)) {
        const Aeth& aeth = headers.aeth;
        if (aeth.value > 0x1F || aeth.msn > psn_mask)
            return Error(Errno::INVAL, "AETH: syndrome value or MSN out of range");
        if (aeth.kind != AethKind::Ack && aeth.kind != AethKind::RnrNak && aeth.kind != AethKind::Nak)
            return Error(Errno::INVAL, "AETH: reserved syndrome kind");
        if (aeth.kind == AethKind::Nak && aeth.value > static_cast<uint8_t>(NakCode::InvalidRdRequest))
            return Error(Errno::INVAL, "AETH: reserved NAK code");
    }
    if (out.size() < size)
        return Error(Errno::NOSPC, "RoCE packet buffer too small");

    uint8_t pad = static_cast<uint8_t>((0 - payload.size()) & 3);
    out[0] = static_cast<uint8_t>(bth.opcode);
    out[1] = static_cast<uint8_t>((bth.solicited ? bth_se : 0) | (bth.migrated ? bth_m : 0) | pad << bth_pad_shift);
    store_be(out, 2, 2, bth.pkey);
    out[4] = static_cast<uint8_t>((bth.fecn ? bth_fecn : 0) | (bth.becn ? bth_becn : 0));
    store_be(out, 5, 3, bth.dest_qpn);
    out[8] = bth.ack_request ? bth_ack_request : 0;
    store_be(out, 9, 3, bth.psn);

    size_t offset = bth_size;
    if (info.has(header_deth)) {
        store_be(out, offset, 4, headers.deth.qkey);
        out[offset + 4] = 0;
        store_be(out, offset + 5, 3, headers.deth.source_qpn);
        offset += deth_size;
    }
    if (info.has(header_reth)) {
        store_be(out, offset, 8, headers.reth.virtual_address);
        store_be(out, offset + 8, 4, headers.reth.rkey);
        store_be(out, offset + 12, 4, headers.reth.dma_length);
        offset += reth_size;
    }
    if (info.has(header_aeth)) {
        out[offset] = headers.aeth.syndrome();
        store_be(out, offset + 1, 3, headers.aeth.msn);
        offset += aeth_size;
    }
    if (info.has(header_immdt)) {
        store_be(out, offset, 4, headers.immediate);
        offset += immdt_size;
    }
    for (size_t i = 0; i < payload.size(); ++i)
        out[offset + i] = payload[i];
    offset += payload.size();
    // Pad bytes are zeros (rxe_req.c:389), and the ICRC slot starts zeroed.
    for (size_t i = 0; i < pad + icrc_size; ++i)
        out[offset + i] = 0;
    return size;
}

} // namespace tessera::rdma
