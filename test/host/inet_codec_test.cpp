// Ethernet, ARP, IPv4, UDP and ICMP codecs against hand-built RFC vectors and
// every malformed case we know of.
#include <net/inet/lib/arp.h>
#include <net/inet/lib/ethernet.h>
#include <net/inet/lib/icmp.h>
#include <net/inet/lib/internet_checksum.h>
#include <net/inet/lib/ipv4.h>
#include <net/inet/lib/udp.h>

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

using namespace tessera;

namespace {

using Bytes = std::vector<uint8_t>;

Span<const uint8_t> span(const Bytes& b) { return { b.data(), b.size() }; }
Span<uint8_t> wspan(Bytes& b) { return { b.data(), b.size() }; }

const MacAddress mac_a { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a } };
const MacAddress mac_b { { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b } };
const Ipv4Address ip_a = Ipv4Address { { 192, 168, 0, 1 } };
const Ipv4Address ip_b = Ipv4Address { { 192, 168, 0, 199 } };

// The classic example header (192.168.0.1 -> 192.168.0.199, UDP, DF, TTL 64,
// total length 115) whose checksum is 0xb861.
const Bytes classic_ipv4_header = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
    0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

Bytes classic_ipv4_packet()
{
    Bytes packet = classic_ipv4_header;
    packet.resize(0x73, 0);
    return packet;
}

const char* reason(const Error& error) { return error.what() ? error.what() : ""; }

} // namespace

TEST(InternetChecksum, Rfc1071Example)
{
    // RFC 1071 section 3: these bytes sum to 0xddf2, so the checksum is ~0xddf2.
    Bytes bytes = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    EXPECT_EQ(internet_checksum(span(bytes)), 0x220d);
}

TEST(InternetChecksum, OddLengthPadsWithZero)
{
    Bytes odd = { 0x12, 0x34, 0x56 };
    Bytes even = { 0x12, 0x34, 0x56, 0x00 };
    EXPECT_EQ(internet_checksum(span(odd)), internet_checksum(span(even)));
}

TEST(InternetChecksum, ClassicIpv4HeaderIsB861)
{
    Bytes header = classic_ipv4_header;
    EXPECT_EQ(internet_checksum(span(header)), 0);
    header[10] = header[11] = 0;
    EXPECT_EQ(internet_checksum(span(header)), 0xb861);
}

TEST(Ethernet, DecodesKnownFrame)
{
    Bytes frame = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x0a, 0x08, 0x06, 0xaa };
    auto result = decode_ethernet(span(frame));
    ASSERT_FALSE(result.is_error());
    EXPECT_EQ(result.value().header.destination, MacAddress::broadcast());
    EXPECT_EQ(result.value().header.source, mac_a);
    EXPECT_EQ(result.value().header.ether_type, 0x0806);
    ASSERT_EQ(result.value().payload.size(), 1u);
    EXPECT_EQ(result.value().payload[0], 0xaa);
}

TEST(Ethernet, RoundTrip)
{
    Bytes out(14);
    EthernetHeader header { mac_b, mac_a, static_cast<uint16_t>(EtherType::Ipv4) };
    EXPECT_EQ(encode_ethernet(header, wspan(out)).value(), 14u);
    auto decoded = decode_ethernet(span(out));
    ASSERT_FALSE(decoded.is_error());
    EXPECT_EQ(decoded.value().header.destination, mac_b);
    EXPECT_EQ(decoded.value().header.source, mac_a);
    EXPECT_EQ(decoded.value().header.ether_type, 0x0800);
    EXPECT_TRUE(decoded.value().payload.is_empty());
    Bytes small(13);
    EXPECT_EQ(encode_ethernet(header, wspan(small)).error().code(), Errno::RANGE);
}

TEST(Ethernet, RejectsVlanTagAndLengthField)
{
    Bytes frame(18, 0);
    for (uint16_t type : { 0x8100, 0x88a8, 0x05dc, 0x0000 }) {
        frame[12] = static_cast<uint8_t>(type >> 8);
        frame[13] = static_cast<uint8_t>(type);
        auto result = decode_ethernet(span(frame));
        ASSERT_TRUE(result.is_error()) << type;
        EXPECT_EQ(result.error().code(), Errno::INVAL);
    }
    frame[12] = 0x81;
    frame[13] = 0x00;
    EXPECT_NE(strstr(reason(decode_ethernet(span(frame)).error()), "802.1Q"), nullptr);
}

TEST(Ethernet, RejectsEveryShortLength)
{
    Bytes frame(14, 0x08);
    for (size_t n = 0; n < 14; ++n)
        EXPECT_TRUE(decode_ethernet(Span<const uint8_t>(frame.data(), n)).is_error()) << n;
}

// RFC 826 request: who has 192.168.0.199? tell 192.168.0.1.
const Bytes arp_request_bytes = { 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0, 0, 0, 0, 0x0a, 0xc0, 0xa8,
    0x00, 0x01, 0, 0, 0, 0, 0, 0, 0xc0, 0xa8, 0x00, 0xc7 };

TEST(Arp, DecodesKnownRequest)
{
    auto result = decode_arp(span(arp_request_bytes));
    ASSERT_FALSE(result.is_error());
    EXPECT_EQ(result.value().operation, ArpOperation::Request);
    EXPECT_EQ(result.value().sender_mac, mac_a);
    EXPECT_EQ(result.value().sender_ip, ip_a);
    EXPECT_EQ(result.value().target_mac, MacAddress {});
    EXPECT_EQ(result.value().target_ip, ip_b);
}

TEST(Arp, ReplyRoundTrip)
{
    ArpPacket reply = make_arp_reply(decode_arp(span(arp_request_bytes)).value(), mac_b);
    Bytes out(28);
    EXPECT_EQ(encode_arp(reply, wspan(out)).value(), 28u);
    Bytes expected = { 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0, 0, 0, 0, 0x0b, 0xc0, 0xa8, 0x00, 0xc7,
        0x02, 0, 0, 0, 0, 0x0a, 0xc0, 0xa8, 0x00, 0x01 };
    EXPECT_EQ(out, expected);
    auto decoded = decode_arp(span(out));
    ASSERT_FALSE(decoded.is_error());
    EXPECT_EQ(decoded.value().operation, ArpOperation::Reply);
    EXPECT_EQ(decoded.value().sender_mac, mac_b);
    EXPECT_EQ(decoded.value().target_ip, ip_a);
    Bytes small(27);
    EXPECT_EQ(encode_arp(reply, wspan(small)).error().code(), Errno::RANGE);
}

TEST(Arp, AcceptsEthernetPadding)
{
    Bytes padded = arp_request_bytes;
    padded.resize(46, 0);
    EXPECT_FALSE(decode_arp(span(padded)).is_error());
}

TEST(Arp, RejectsEveryBadField)
{
    struct Case {
        size_t offset;
        uint8_t value;
    };
    for (Case c : { Case { 1, 6 }, Case { 0, 1 }, Case { 2, 0x86 }, Case { 3, 0x01 }, Case { 4, 8 }, Case { 5, 16 },
             Case { 7, 0 }, Case { 7, 3 }, Case { 6, 1 } }) {
        Bytes bad = arp_request_bytes;
        bad[c.offset] = c.value;
        auto result = decode_arp(span(bad));
        ASSERT_TRUE(result.is_error()) << c.offset << "=" << int(c.value);
        EXPECT_EQ(result.error().code(), Errno::INVAL);
    }
    for (size_t n = 0; n < 28; ++n)
        EXPECT_TRUE(decode_arp(Span<const uint8_t>(arp_request_bytes.data(), n)).is_error()) << n;
}

TEST(Ipv4, DecodesClassicHeader)
{
    Bytes packet = classic_ipv4_packet();
    packet.resize(packet.size() + 7, 0xee); // Ethernet padding past the total length.
    auto result = decode_ipv4(span(packet));
    ASSERT_FALSE(result.is_error()) << reason(result.error());
    const auto& d = result.value();
    EXPECT_EQ(d.header.source, ip_a);
    EXPECT_EQ(d.header.destination, ip_b);
    EXPECT_EQ(d.header.protocol, 17);
    EXPECT_EQ(d.header.ttl, 64);
    EXPECT_TRUE(d.header.dont_fragment);
    EXPECT_EQ(d.header_size, 20u);
    EXPECT_EQ(d.payload.size(), 0x73u - 20);
}

TEST(Ipv4, EncodeReproducesClassicHeader)
{
    Ipv4Header header;
    header.ttl = 64;
    header.protocol = 17;
    header.identification = 0;
    header.source = ip_a;
    header.destination = ip_b;
    Bytes out(20);
    EXPECT_EQ(encode_ipv4(header, 0x73 - 20, wspan(out)).value(), 20u);
    EXPECT_EQ(out, classic_ipv4_header);
    Bytes small(19);
    EXPECT_EQ(encode_ipv4(header, 0, wspan(small)).error().code(), Errno::RANGE);
    EXPECT_EQ(encode_ipv4(header, 65536 - 20, wspan(out)).error().code(), Errno::MSGSIZE);
}

TEST(Ipv4, OptionsAreSkippedAndChecked)
{
    Bytes packet(40, 0);
    packet[0] = 0x46; // IHL 6: one option word.
    packet[3] = 40;
    packet[8] = 1;
    packet[20 + 0] = 0x01; // NOP options, part of the header.
    uint16_t sum = internet_checksum(Span<const uint8_t>(packet.data(), 24));
    packet[10] = static_cast<uint8_t>(sum >> 8);
    packet[11] = static_cast<uint8_t>(sum);
    auto result = decode_ipv4(span(packet));
    ASSERT_FALSE(result.is_error()) << reason(result.error());
    EXPECT_EQ(result.value().header_size, 24u);
    EXPECT_EQ(result.value().payload.size(), 16u);
    // IHL 15 (60 bytes) in a 40-byte packet: options past the buffer.
    packet[0] = 0x4f;
    EXPECT_TRUE(decode_ipv4(span(packet)).is_error());
}

namespace {

// The classic packet with one header byte changed and the checksum fixed, so
// that only the field under test is wrong.
Bytes with_field(size_t offset, uint8_t value, bool fix_checksum = true)
{
    Bytes packet = classic_ipv4_packet();
    packet[offset] = value;
    if (fix_checksum) {
        size_t ihl = static_cast<size_t>(packet[0] & 0xf) * 4;
        if (ihl < 20 || ihl > packet.size())
            ihl = 20;
        packet[10] = packet[11] = 0;
        uint16_t sum = internet_checksum(Span<const uint8_t>(packet.data(), ihl));
        packet[10] = static_cast<uint8_t>(sum >> 8);
        packet[11] = static_cast<uint8_t>(sum);
    }
    return packet;
}

void expect_ipv4_rejected(const Bytes& packet, const char* why)
{
    auto result = decode_ipv4(span(packet));
    ASSERT_TRUE(result.is_error()) << why;
    EXPECT_EQ(result.error().code(), Errno::INVAL);
    EXPECT_NE(strstr(reason(result.error()), why), nullptr) << reason(result.error());
}

} // namespace

TEST(Ipv4, RejectsMalformedHeaders)
{
    expect_ipv4_rejected(with_field(0, 0x65), "version");
    expect_ipv4_rejected(with_field(0, 0x44), "IHL below 5");
    expect_ipv4_rejected(with_field(0, 0x40), "IHL below 5");
    expect_ipv4_rejected(with_field(3, 0x13), "shorter than the header"); // total 19.
    expect_ipv4_rejected(with_field(3, 0x74), "exceeds the frame"); // total lies by one.
    expect_ipv4_rejected(with_field(2, 0x01), "exceeds the frame");
    expect_ipv4_rejected(with_field(6, 0x60), "fragments"); // DF + MF.
    expect_ipv4_rejected(with_field(6, 0x20), "fragments"); // MF.
    expect_ipv4_rejected(with_field(7, 0x01), "fragments"); // Offset 8 bytes.
    expect_ipv4_rejected(with_field(6, 0x41), "fragments"); // DF + high offset bit.
    expect_ipv4_rejected(with_field(6, 0xc0), "reserved");
    expect_ipv4_rejected(with_field(8, 0), "TTL");
}

TEST(Ipv4, RejectsEverySingleBitChecksumError)
{
    // Flipping any one bit of the header (checksum included) must be caught:
    // the planted failure for the checksum check.
    for (size_t bit = 0; bit < 20 * 8; ++bit) {
        Bytes packet = classic_ipv4_packet();
        packet[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
        EXPECT_TRUE(decode_ipv4(span(packet)).is_error()) << bit;
    }
    Bytes off_by_one = with_field(11, 0x62, false);
    expect_ipv4_rejected(off_by_one, "checksum");
}

TEST(Ipv4, RejectsEveryTruncation)
{
    Bytes packet = classic_ipv4_packet();
    for (size_t n = 0; n < packet.size(); ++n)
        EXPECT_TRUE(decode_ipv4(Span<const uint8_t>(packet.data(), n)).is_error()) << n;
}

namespace {

// A UDP datagram 192.168.0.1:1234 -> 192.168.0.199:4791 carrying "hi!", with
// its checksum computed by hand from the RFC 768 pseudo-header:
//   c0a8 + 0001 + c0a8 + 00c7 + 0011 + 000b  (pseudo-header)
//   + 04d2 + 12b7 + 000b + 0000 + 6869 + 2100        (header, "hi!" padded)
//   = 0x2_2331 -> 0x2333, complemented 0xdccc.
const Bytes udp_hi = { 0x04, 0xd2, 0x12, 0xb7, 0x00, 0x0b, 0xdc, 0xcc, 'h', 'i', '!' };

} // namespace

TEST(Udp, DecodesHandComputedVector)
{
    auto result = decode_udp(span(udp_hi), ip_a, ip_b);
    ASSERT_FALSE(result.is_error()) << reason(result.error());
    EXPECT_EQ(result.value().source_port, 1234);
    EXPECT_EQ(result.value().destination_port, 4791);
    ASSERT_EQ(result.value().payload.size(), 3u);
    EXPECT_EQ(result.value().payload[2], '!');
}

TEST(Udp, EncodeMatchesHandComputedVector)
{
    Bytes out = { 0, 0, 0, 0, 0, 0, 0, 0, 'h', 'i', '!' };
    EXPECT_EQ(encode_udp(ip_a, ip_b, 1234, 4791, wspan(out)).value(), 11u);
    EXPECT_EQ(out, udp_hi);
    Bytes small(7);
    EXPECT_EQ(encode_udp(ip_a, ip_b, 1, 2, wspan(small)).error().code(), Errno::INVAL);
}

TEST(Udp, ZeroChecksumIsNotVerified)
{
    Bytes datagram = udp_hi;
    datagram[6] = datagram[7] = 0;
    datagram[8] = 'H';
    EXPECT_FALSE(decode_udp(span(datagram), ip_a, ip_b).is_error());
}

TEST(Udp, RejectsBadChecksumAndLengthLies)
{
    for (size_t bit = 0; bit < udp_hi.size() * 8; ++bit) {
        Bytes datagram = udp_hi;
        datagram[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
        if (datagram[6] == 0 && datagram[7] == 0)
            continue; // Became "no checksum".
        EXPECT_TRUE(decode_udp(span(datagram), ip_a, ip_b).is_error()) << bit;
    }
    // The pseudo-header is covered: the same bytes from another source fail.
    EXPECT_TRUE(decode_udp(span(udp_hi), Ipv4Address { { 192, 168, 0, 2 } }, ip_b).is_error());
    Bytes datagram = udp_hi;
    datagram[5] = 12; // Length longer than the IP payload.
    EXPECT_NE(strstr(reason(decode_udp(span(datagram), ip_a, ip_b).error()), "differs"), nullptr);
    datagram[5] = 10; // Shorter.
    EXPECT_TRUE(decode_udp(span(datagram), ip_a, ip_b).is_error());
    datagram[5] = 7; // Below the header.
    EXPECT_NE(strstr(reason(decode_udp(span(datagram), ip_a, ip_b).error()), "below 8"), nullptr);
    for (size_t n = 0; n < udp_hi.size(); ++n)
        EXPECT_TRUE(decode_udp(Span<const uint8_t>(udp_hi.data(), n), ip_a, ip_b).is_error()) << n;
}

TEST(Udp, ComputedZeroIsSentAsFfff)
{
    // Choose the payload word so that the sum is 0xffff: checksum would be 0.
    Bytes datagram = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    uint16_t base = udp_checksum(ip_a, ip_b, span(datagram));
    // Adding ~x... simpler: put the complement of the current sum in the payload.
    uint16_t word = static_cast<uint16_t>(base == 0xffff ? 0 : base);
    datagram[8] = static_cast<uint8_t>(word >> 8);
    datagram[9] = static_cast<uint8_t>(word);
    EXPECT_EQ(udp_checksum(ip_a, ip_b, span(datagram)), 0xffff);
    EXPECT_EQ(encode_udp(ip_a, ip_b, 0, 0, wspan(datagram)).value(), 10u);
    EXPECT_FALSE(decode_udp(span(datagram), ip_a, ip_b).is_error());
}

namespace {

// Echo request id 0x1234 seq 1 "abcd": sum 0800+0000+1234+0001+6162+6364
// = 0xdefb, checksum 0x2104.
const Bytes echo_request = { 0x08, 0x00, 0x21, 0x04, 0x12, 0x34, 0x00, 0x01, 'a', 'b', 'c', 'd' };

} // namespace

TEST(Icmp, EchoRequestToReply)
{
    auto echo = decode_icmp_echo(span(echo_request));
    ASSERT_FALSE(echo.is_error()) << reason(echo.error());
    EXPECT_EQ(echo.value().identifier, 0x1234);
    EXPECT_EQ(echo.value().sequence, 1);
    Bytes reply(echo_request.size());
    EXPECT_EQ(build_icmp_echo_reply(span(echo_request), wspan(reply)).value(), echo_request.size());
    // Type 8 -> 0 lowers the sum by 0x0800, so the checksum rises by 0x0800.
    Bytes expected = { 0x00, 0x00, 0x29, 0x04, 0x12, 0x34, 0x00, 0x01, 'a', 'b', 'c', 'd' };
    EXPECT_EQ(reply, expected);
    EXPECT_EQ(decode_icmp_echo(span(reply)).value().type, icmp_type_echo_reply);
    // In place.
    Bytes in_place = echo_request;
    EXPECT_EQ(build_icmp_echo_reply(span(in_place), wspan(in_place)).value(), in_place.size());
    EXPECT_EQ(in_place, expected);
}

TEST(Icmp, RejectsBadRequests)
{
    Bytes reply(64);
    Bytes bad = echo_request;
    bad[11] ^= 1;
    EXPECT_EQ(build_icmp_echo_reply(span(bad), wspan(reply)).error().code(), Errno::INVAL);
    Bytes not_request = { 0x00, 0x00, 0x29, 0x04, 0x12, 0x34, 0x00, 0x01, 'a', 'b', 'c', 'd' };
    EXPECT_EQ(build_icmp_echo_reply(span(not_request), wspan(reply)).error().code(), Errno::INVAL);
    Bytes unreachable = { 0x03, 0x01, 0xfc, 0xfe, 0, 0, 0, 0 };
    EXPECT_EQ(decode_icmp_echo(span(unreachable)).error().code(), Errno::NOSYS);
    Bytes small(echo_request.size() - 1);
    EXPECT_EQ(build_icmp_echo_reply(span(echo_request), wspan(small)).error().code(), Errno::RANGE);
    for (size_t n = 0; n < 8; ++n)
        EXPECT_TRUE(decode_icmp_echo(Span<const uint8_t>(echo_request.data(), n)).is_error()) << n;
}

// A whole Ethernet/IPv4/UDP frame, built by the encoders and decoded layer by
// layer; then every truncation of it must fail somewhere, never read past.
namespace {

Bytes build_frame()
{
    const char message[] = "tessera";
    Bytes frame(14 + 20 + 8 + sizeof(message));
    Span<uint8_t> all = wspan(frame);
    memcpy(frame.data() + 42, message, sizeof(message));
    encode_ethernet({ mac_b, mac_a, static_cast<uint16_t>(EtherType::Ipv4) }, all).value();
    (void)encode_udp(ip_a, ip_b, 4791, 4791, all.slice(34)).value();
    Ipv4Header ip;
    ip.protocol = static_cast<uint8_t>(IpProtocol::Udp);
    ip.source = ip_a;
    ip.destination = ip_b;
    (void)encode_ipv4(ip, 8 + sizeof(message), all.slice(14)).value();
    return frame;
}

ErrorOr<UdpDatagram> decode_frame(Span<const uint8_t> bytes)
{
    EthernetFrame frame = TRY(decode_ethernet(bytes));
    Ipv4Datagram ip = TRY(decode_ipv4(frame.payload));
    return decode_udp(ip.payload, ip.header.source, ip.header.destination);
}

} // namespace

TEST(InetFrame, RoundTripThroughEveryLayer)
{
    Bytes frame = build_frame();
    auto udp = decode_frame(span(frame));
    ASSERT_FALSE(udp.is_error()) << reason(udp.error());
    EXPECT_EQ(udp.value().destination_port, 4791);
    EXPECT_EQ(memcmp(udp.value().payload.data(), "tessera", 8), 0);
}

TEST(InetFrame, TruncatedAtEveryByteIsRejected)
{
    Bytes frame = build_frame();
    for (size_t n = 0; n < frame.size(); ++n) {
        // A copy of exactly n bytes, so ASan catches any read past the end.
        Bytes cut(frame.begin(), frame.begin() + static_cast<long>(n));
        EXPECT_TRUE(decode_frame(Span<const uint8_t>(cut.data(), cut.size())).is_error()) << n;
    }
}
