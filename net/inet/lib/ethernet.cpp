#include <net/inet/lib/byte_order.h>
#include <net/inet/lib/ethernet.h>

namespace tessera {

namespace {

constexpr uint16_t ether_type_vlan = 0x8100;
constexpr uint16_t ether_type_qinq = 0x88a8;
// Values below this are an 802.3 length, not a type (IEEE 802.3 3.2.6).
constexpr uint16_t ether_type_minimum = 0x0600;

} // namespace

ErrorOr<EthernetFrame> decode_ethernet(Span<const uint8_t> frame)
{
    if (frame.size() < ethernet_header_size)
        return Error(Errno::INVAL, "ethernet: frame shorter than the 14-byte header");
    EthernetFrame result;
    result.header.destination = load_mac(frame, 0);
    result.header.source = load_mac(frame, 6);
    result.header.ether_type = load_be16(frame, 12);
    if (result.header.ether_type == ether_type_vlan || result.header.ether_type == ether_type_qinq)
        return Error(Errno::INVAL, "ethernet: 802.1Q/802.1ad tagged frame not supported");
    if (result.header.ether_type < ether_type_minimum)
        return Error(Errno::INVAL, "ethernet: 802.3 length field instead of an EtherType");
    result.payload = frame.slice(ethernet_header_size);
    return result;
}

ErrorOr<size_t> encode_ethernet(const EthernetHeader& header, Span<uint8_t> out)
{
    if (out.size() < ethernet_header_size)
        return Error(Errno::RANGE, "ethernet: buffer shorter than the header");
    for (size_t i = 0; i < 6; ++i) {
        out[i] = header.destination.octets[i];
        out[6 + i] = header.source.octets[i];
    }
    store_be16(out, 12, header.ether_type);
    return ethernet_header_size;
}

} // namespace tessera
