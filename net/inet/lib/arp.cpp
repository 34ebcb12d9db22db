#include <net/inet/lib/arp.h>
#include <net/inet/lib/byte_order.h>

namespace tessera {

namespace {

constexpr uint16_t hardware_type_ethernet = 1;
constexpr uint16_t protocol_type_ipv4 = 0x0800;

} // namespace

ErrorOr<ArpPacket> decode_arp(Span<const uint8_t> packet)
{
    if (packet.size() < arp_packet_size)
        return Error(Errno::INVAL, "arp: packet shorter than 28 bytes");
    if (load_be16(packet, 0) != hardware_type_ethernet)
        return Error(Errno::INVAL, "arp: hardware type is not Ethernet (1)");
    if (load_be16(packet, 2) != protocol_type_ipv4)
        return Error(Errno::INVAL, "arp: protocol type is not IPv4 (0x0800)");
    if (packet[4] != 6)
        return Error(Errno::INVAL, "arp: hardware address length is not 6");
    if (packet[5] != 4)
        return Error(Errno::INVAL, "arp: protocol address length is not 4");
    uint16_t operation = load_be16(packet, 6);
    if (operation != 1 && operation != 2)
        return Error(Errno::INVAL, "arp: opcode is neither request (1) nor reply (2)");
    ArpPacket result;
    result.operation = static_cast<ArpOperation>(operation);
    result.sender_mac = load_mac(packet, 8);
    result.sender_ip = load_ipv4(packet, 14);
    result.target_mac = load_mac(packet, 18);
    result.target_ip = load_ipv4(packet, 24);
    return result;
}

ErrorOr<size_t> encode_arp(const ArpPacket& packet, Span<uint8_t> out)
{
    if (out.size() < arp_packet_size)
        return Error(Errno::RANGE, "arp: buffer shorter than 28 bytes");
    store_be16(out, 0, hardware_type_ethernet);
    store_be16(out, 2, protocol_type_ipv4);
    out[4] = 6;
    out[5] = 4;
    store_be16(out, 6, static_cast<uint16_t>(packet.operation));
    store_mac(out, 8, packet.sender_mac);
    store_ipv4(out, 14, packet.sender_ip);
    store_mac(out, 18, packet.target_mac);
    store_ipv4(out, 24, packet.target_ip);
    return arp_packet_size;
}

ArpPacket make_arp_reply(const ArpPacket& request, MacAddress our_mac)
{
    ArpPacket reply;
    reply.operation = ArpOperation::Reply;
    reply.sender_mac = our_mac;
    reply.sender_ip = request.target_ip;
    reply.target_mac = request.sender_mac;
    reply.target_ip = request.sender_ip;
    return reply;
}

} // namespace tessera
