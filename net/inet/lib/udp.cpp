#include <net/inet/lib/byte_order.h>
#include <net/inet/lib/internet_checksum.h>
#include <net/inet/lib/ipv4.h>
#include <net/inet/lib/udp.h>

namespace tessera {

namespace {

uint32_t pseudo_header_sum(Ipv4Address source, Ipv4Address destination, size_t udp_length)
{
    uint8_t bytes[12];
    Span<uint8_t> pseudo(bytes);
    store_ipv4(pseudo, 0, source);
    store_ipv4(pseudo, 4, destination);
    pseudo[8] = 0;
    pseudo[9] = static_cast<uint8_t>(IpProtocol::Udp);
    store_be16(pseudo, 10, static_cast<uint16_t>(udp_length));
    return internet_checksum_add(0, pseudo);
}

} // namespace

uint16_t udp_checksum(Ipv4Address source, Ipv4Address destination, Span<const uint8_t> datagram)
{
    uint16_t sum = internet_checksum_finish(
        internet_checksum_add(pseudo_header_sum(source, destination, datagram.size()), datagram));
    return sum == 0 ? 0xffff : sum;
}

ErrorOr<UdpDatagram> decode_udp(Span<const uint8_t> ip_payload, Ipv4Address source, Ipv4Address destination)
{
    if (ip_payload.size() < udp_header_size)
        return Error(Errno::INVAL, "udp: datagram shorter than the 8-byte header");
    size_t length = load_be16(ip_payload, 4);
    if (length < udp_header_size)
        return Error(Errno::INVAL, "udp: length field below 8");
    if (length != ip_payload.size())
        return Error(Errno::INVAL, "udp: length field differs from the IPv4 payload");
    if (load_be16(ip_payload, 6) != 0) {
        // Summing the received checksum with the rest gives 0xffff when right.
        uint32_t sum = internet_checksum_add(pseudo_header_sum(source, destination, length), ip_payload);
        if (internet_checksum_finish(sum) != 0)
            return Error(Errno::INVAL, "udp: bad checksum");
    }
    UdpDatagram result;
    result.source_port = load_be16(ip_payload, 0);
    result.destination_port = load_be16(ip_payload, 2);
    result.payload = ip_payload.slice(udp_header_size);
    return result;
}

ErrorOr<size_t> encode_udp(Ipv4Address source, Ipv4Address destination, uint16_t source_port, uint16_t destination_port,
    Span<uint8_t> datagram)
{
    if (datagram.size() < udp_header_size)
        return Error(Errno::INVAL, "udp: buffer shorter than the header");
    if (datagram.size() > 0xffff)
        return Error(Errno::MSGSIZE, "udp: datagram exceeds 65535 bytes");
    store_be16(datagram, 0, source_port);
    store_be16(datagram, 2, destination_port);
    store_be16(datagram, 4, static_cast<uint16_t>(datagram.size()));
    store_be16(datagram, 6, 0);
    store_be16(datagram, 6, udp_checksum(source, destination, datagram));
    return datagram.size();
}

} // namespace tessera
