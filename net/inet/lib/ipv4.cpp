#include <net/inet/lib/byte_order.h>
#include <net/inet/lib/internet_checksum.h>
#include <net/inet/lib/ipv4.h>

namespace tessera {

namespace {

constexpr uint16_t flag_reserved = 0x8000;
constexpr uint16_t flag_dont_fragment = 0x4000;
constexpr uint16_t flag_more_fragments = 0x2000;
constexpr uint16_t fragment_offset_mask = 0x1fff;

} // namespace

ErrorOr<Ipv4Datagram> decode_ipv4(Span<const uint8_t> packet)
{
    if (packet.size() < ipv4_minimum_header_size)
        return Error(Errno::INVAL, "ipv4: packet shorter than the 20-byte header");
    uint8_t version = packet[0] >> 4;
    if (version != 4)
        return Error(Errno::INVAL, "ipv4: version is not 4");
    size_t header_size = static_cast<size_t>(packet[0] & 0x0f) * 4;
    if (header_size < ipv4_minimum_header_size)
        return Error(Errno::INVAL, "ipv4: IHL below 5");
    if (header_size > packet.size())
        return Error(Errno::INVAL, "ipv4: header with options exceeds the packet");
    size_t total_length = load_be16(packet, 2);
    if (total_length < header_size)
        return Error(Errno::INVAL, "ipv4: total length shorter than the header");
    if (total_length > packet.size())
        return Error(Errno::INVAL, "ipv4: total length exceeds the frame");
    if (internet_checksum(packet.first(header_size)) != 0)
        return Error(Errno::INVAL, "ipv4: bad header checksum");
    uint16_t flags_offset = load_be16(packet, 6);
    if (flags_offset & flag_reserved)
        return Error(Errno::INVAL, "ipv4: reserved flag set");
    if ((flags_offset & flag_more_fragments) || (flags_offset & fragment_offset_mask))
        return Error(Errno::INVAL, "ipv4: fragments are not supported");
    if (packet[8] == 0)
        return Error(Errno::INVAL, "ipv4: TTL is 0");

    Ipv4Datagram result;
    result.header.dscp_ecn = packet[1];
    result.header.identification = load_be16(packet, 4);
    result.header.dont_fragment = (flags_offset & flag_dont_fragment) != 0;
    result.header.ttl = packet[8];
    result.header.protocol = packet[9];
    result.header.source = load_ipv4(packet, 12);
    result.header.destination = load_ipv4(packet, 16);
    result.header_size = header_size;
    result.payload = packet.slice(header_size, total_length - header_size);
    return result;
}

ErrorOr<size_t> encode_ipv4(const Ipv4Header& header, size_t payload_size, Span<uint8_t> out)
{
    if (out.size() < ipv4_minimum_header_size)
        return Error(Errno::RANGE, "ipv4: buffer shorter than the header");
    if (payload_size > 0xffff - ipv4_minimum_header_size)
        return Error(Errno::MSGSIZE, "ipv4: datagram exceeds 65535 bytes");
    out[0] = 0x45;
    out[1] = header.dscp_ecn;
    store_be16(out, 2, static_cast<uint16_t>(ipv4_minimum_header_size + payload_size));
    store_be16(out, 4, header.identification);
    store_be16(out, 6, header.dont_fragment ? flag_dont_fragment : 0);
    out[8] = header.ttl;
    out[9] = header.protocol;
    store_be16(out, 10, 0);
    store_ipv4(out, 12, header.source);
    store_ipv4(out, 16, header.destination);
    store_be16(out, 10, internet_checksum(out.first(ipv4_minimum_header_size)));
    return ipv4_minimum_header_size;
}

} // namespace tessera
