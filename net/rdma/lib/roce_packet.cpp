#include <net/inet/lib/byte_order.h>
#include <net/inet/lib/ipv4.h>
#include <net/inet/lib/udp.h>
#include <net/rdma/lib/icrc.h>
#include <net/rdma/lib/roce_packet.h>

namespace tessera::rdma {

uint16_t roce_udp_source_port(uint32_t local_qpn, uint32_t remote_qpn)
{
    uint64_t label = static_cast<uint64_t>(local_qpn) * remote_qpn;
    label ^= label >> 20;
    label ^= label >> 40;
    uint32_t flow = static_cast<uint32_t>(label & 0xFFFFF);
    uint32_t low = flow & 0x3FFF;
    low ^= (flow & 0xFC000) >> 14;
    return static_cast<uint16_t>(0xC000 | low);
}

ErrorOr<size_t> build_roce_packet(
    const PacketAddressing& addressing, const TransportHeaders& headers, Span<const uint8_t> payload, Span<uint8_t> out)
{
    if (out.size() < roce_overhead)
        return Error(Errno::NOSPC, "RoCE packet buffer too small");
    size_t transport_size = TRY(encode_packet(headers, payload, out.slice(roce_overhead, out.size() - roce_overhead)));
    size_t udp_size = udp_header_size + transport_size;
    Ipv4Header ip;
    ip.dscp_ecn = addressing.traffic_class;
    ip.identification = addressing.identification;
    ip.dont_fragment = true;
    ip.ttl = addressing.hop_limit;
    ip.protocol = static_cast<uint8_t>(IpProtocol::Udp);
    ip.source = addressing.source;
    ip.destination = addressing.destination;
    TRY(encode_ipv4(ip, udp_size, out));
    Span<uint8_t> udp = out.slice(ipv4_header_size, udp_header_size);
    store_be16(udp, 0, addressing.udp_source_port);
    store_be16(udp, 2, roce_udp_port);
    store_be16(udp, 4, static_cast<uint16_t>(udp_size));
    store_be16(udp, 6, 0); // rxe sends no UDP checksum over IPv4
    TRY(store_icrc_ipv4(out.first(ipv4_header_size), udp, out.slice(roce_overhead, transport_size)));
    return roce_overhead + transport_size;
}

ParsedPacket parse_roce_packet(Span<const uint8_t> ip_packet, Ipv4Address local)
{
    ParsedPacket parsed;
    auto drop = [&](DropReason reason) {
        parsed.reason = reason;
        return parsed;
    };
    // rxe assumes IHL 5, and the ICRC is defined over a 20-byte header.
    if (ip_packet.size() < ipv4_header_size || ip_packet[0] != 0x45)
        return drop(DropReason::IpMalformed);
    auto datagram = decode_ipv4(ip_packet);
    if (datagram.is_error())
        return drop(DropReason::IpMalformed);
    const Ipv4Header& ip = datagram.value().header;
    if (ip.protocol != static_cast<uint8_t>(IpProtocol::Udp))
        return drop(DropReason::NotUdp);
    Span<const uint8_t> ip_payload = datagram.value().payload;
    auto udp = decode_udp(ip_payload, ip.source, ip.destination);
    if (udp.is_error())
        return drop(DropReason::UdpMalformed);
    if (udp.value().destination_port != roce_udp_port)
        return drop(DropReason::WrongPort);
    if (!(ip.destination == local))
        return drop(DropReason::WrongDestination);
    Span<const uint8_t> transport = udp.value().payload;
    if (transport.size() < bth_size + icrc_size)
        return drop(DropReason::Short);
    Span<const uint8_t> ip_header = ip_packet.first(ipv4_header_size);
    if (verify_icrc_ipv4(ip_header, ip_payload.first(udp_header_size), transport).is_error())
        return drop(DropReason::BadIcrc);
    auto decoded = decode_packet(transport);
    if (decoded.is_error()) {
        switch (decoded.error().code()) {
        case Errno::NOSYS:
            return drop(DropReason::UnknownOpcode);
        case Errno::MSGSIZE:
            return drop(DropReason::Short);
        default:
            return drop(DropReason::BadHeader);
        }
    }
    PacketAddressing& addressing = parsed.packet.addressing;
    addressing.source = ip.source;
    addressing.destination = ip.destination;
    addressing.traffic_class = ip.dscp_ecn;
    addressing.hop_limit = ip.ttl;
    addressing.identification = ip.identification;
    addressing.udp_source_port = udp.value().source_port;
    parsed.packet.transport = decoded.release_value();
    parsed.packet.ip_header = ip_header;
    return parsed;
}

} // namespace tessera::rdma
