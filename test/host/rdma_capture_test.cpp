// Our RoCE v2 codecs against real Linux rxe traffic: every RoCE packet of
// the captures in test/fixtures/roce/ (two Debian guests, rping and
// rdma-peer; test/fixtures/roce/README.md) must pass our Ethernet, IPv4 and
// UDP decoders, verify under our ICRC (net/rdma/lib/icrc.h) and decode
// under our transport header codec with plausible fields. A one-bit flip of
// any captured packet must fail the ICRC: the check can fail.

#include <net/inet/lib/ethernet.h>
#include <net/inet/lib/ipv4.h>
#include <net/inet/lib/udp.h>
#include <net/rdma/lib/icrc.h>
#include <net/rdma/lib/transport_headers.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace tessera;
using namespace tessera::rdma;

namespace {

constexpr uint16_t roce_port = 4791;

std::filesystem::path fixture(const char* name)
{
    // CMake compiles this file by its absolute path.
    return std::filesystem::path(__FILE__).parent_path() / ".." / "fixtures" / "roce" / name;
}

// A classic libpcap file (what QEMU's filter-dump writes): a 24-byte global
// header, then per packet a 16-byte record header and the bytes.
std::vector<std::vector<uint8_t>> read_pcap(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::vector<uint8_t>> packets;
    auto u32 = [&](size_t at, bool swap) {
        uint32_t v = uint32_t(bytes[at]) | uint32_t(bytes[at + 1]) << 8 | uint32_t(bytes[at + 2]) << 16
            | uint32_t(bytes[at + 3]) << 24;
        return swap ? __builtin_bswap32(v) : v;
    };
    if (bytes.size() < 24)
        return packets;
    bool swap = u32(0, false) == 0xd4c3b2a1u;
    if (!swap && u32(0, false) != 0xa1b2c3d4u)
        return packets;
    EXPECT_EQ(u32(20, swap), 1u) << "link type must be Ethernet";
    size_t at = 24;
    while (at + 16 <= bytes.size()) {
        uint32_t included = u32(at + 8, swap), original = u32(at + 12, swap);
        EXPECT_EQ(included, original) << "a truncated packet: its ICRC cannot be checked";
        at += 16;
        if (at + included > bytes.size()) {
            ADD_FAILURE() << path << ": record past the end of the file";
            break;
        }
        packets.emplace_back(bytes.begin() + static_cast<long>(at), bytes.begin() + static_cast<long>(at + included));
        at += included;
    }
    return packets;
}

struct RocePacket {
    Span<const uint8_t> ip_header;
    Span<const uint8_t> udp_header;
    Span<const uint8_t> transport; // BTH through ICRC
    Ipv4Address source, destination;
    uint16_t source_port { 0 };
};

// The RoCE v2 packet in an Ethernet frame, through our own decoders; false
// for anything else (ARP, IPv6 neighbour discovery, ICMP).
bool roce_packet(const std::vector<uint8_t>& frame, RocePacket& out)
{
    auto ethernet = decode_ethernet({ frame.data(), frame.size() });
    if (ethernet.is_error() || ethernet.value().header.ether_type != 0x0800)
        return false;
    auto ip = decode_ipv4(ethernet.value().payload);
    EXPECT_FALSE(ip.is_error()) << "Linux sent an IPv4 packet our decoder rejects";
    if (ip.is_error() || ip.value().header.protocol != 17)
        return false;
    const Ipv4Datagram& datagram = ip.value();
    auto udp = decode_udp(datagram.payload, datagram.header.source, datagram.header.destination);
    EXPECT_FALSE(udp.is_error()) << "Linux sent a UDP datagram our decoder rejects";
    if (udp.is_error() || udp.value().destination_port != roce_port)
        return false;
    Span<const uint8_t> ip_bytes = ethernet.value().payload;
    out.ip_header = ip_bytes.first(datagram.header_size);
    out.udp_header = datagram.payload.first(tessera::udp_header_size);
    out.transport = udp.value().payload;
    out.source = datagram.header.source;
    out.destination = datagram.header.destination;
    out.source_port = udp.value().source_port;
    // docs/wire/roce-v2.md: rxe sends IHL 5, DF, UDP checksum 0.
    EXPECT_EQ(datagram.header_size, 20u);
    EXPECT_TRUE(datagram.header.dont_fragment);
    EXPECT_EQ(out.udp_header[6] | out.udp_header[7], 0) << "rxe sends no UDP checksum";
    return true;
}

uint32_t be32(Span<const uint8_t> bytes, size_t at)
{
    return uint32_t(bytes[at]) << 24 | uint32_t(bytes[at + 1]) << 16 | uint32_t(bytes[at + 2]) << 8 | bytes[at + 3];
}

bool is_request(Opcode opcode)
{
    uint8_t value = static_cast<uint8_t>(opcode);
    return value <= 0x0c || value == 0x64 || value == 0x65;
}

struct Summary {
    size_t roce { 0 };
    std::set<uint8_t> opcodes;
    size_t remote_access_naks { 0 };
    std::set<uint16_t> cm_attributes;
};

// Checks every RoCE packet of a capture; fills in what it saw.
void check_capture(const char* name, Summary& summary)
{
    auto frames = read_pcap(fixture(name));
    EXPECT_FALSE(frames.empty()) << fixture(name) << " is missing or empty";
    // Per (destination IP, destination QPN): the last request PSN.
    std::map<std::pair<uint32_t, uint32_t>, uint32_t> last_psn;
    for (size_t index = 0; index < frames.size(); ++index) {
        RocePacket packet;
        if (!roce_packet(frames[index], packet))
            continue;
        SCOPED_TRACE(std::string(name) + " packet " + std::to_string(index + 1));
        ++summary.roce;
        auto verified = verify_icrc_ipv4(packet.ip_header, packet.udp_header, packet.transport);
        EXPECT_FALSE(verified.is_error()) << "our ICRC disagrees with Linux rxe's";

        auto decoded = decode_packet(packet.transport);
        ASSERT_FALSE(decoded.is_error()) << "our codec rejects a packet Linux sent";
        const DecodedPacket& d = decoded.value();
        const Bth& bth = d.headers.bth;
        summary.opcodes.insert(static_cast<uint8_t>(bth.opcode));
        EXPECT_EQ(bth.pkey, 0xFFFF);
        EXPECT_LT(bth.psn, 1u << 24);
        EXPECT_EQ(bth.pad_count, (4 - d.payload.size() % 4) % 4) << "PadCnt = (-payload) & 3";
        // Path MTU 1024 in these captures: FIRST/MIDDLE carry exactly that.
        uint8_t op = static_cast<uint8_t>(bth.opcode);
        if (op == 0x00 || op == 0x01 || op == 0x06 || op == 0x07 || op == 0x0d || op == 0x0e) {
            EXPECT_EQ(d.payload.size(), 1024u);
        }
        if (bth.opcode == Opcode::UdSendOnly) {
            // A CM MAD to QP 1 (docs/wire/rdma-cm.md 2.1).
            EXPECT_EQ(bth.dest_qpn, 1u);
            EXPECT_EQ(d.headers.deth.qkey, 0x80010000u);
            EXPECT_EQ(d.headers.deth.source_qpn, 1u);
            ASSERT_EQ(d.payload.size(), 256u);
            EXPECT_EQ(d.payload[0], 1) << "MAD base version";
            EXPECT_EQ(d.payload[1], 0x07) << "CM class";
            EXPECT_EQ(d.payload[2], 2) << "CM class version";
            EXPECT_EQ(d.payload[3], 0x03) << "method Send";
            uint16_t attribute = static_cast<uint16_t>(d.payload[16] << 8 | d.payload[17]);
            EXPECT_GE(attribute, 0x0010);
            EXPECT_LE(attribute, 0x0016);
            summary.cm_attributes.insert(attribute);
            // A new connection starts new random PSNs (REQ and REP carry them).
            if (attribute == 0x0010 || attribute == 0x0013)
                last_psn.clear();
            if (attribute == 0x0010) {
                // REQ: RDMA_PS_TCP service, primary GIDs = ::ffff:<the packet's IPs>.
                EXPECT_EQ(be32(d.payload, 32), 0u);
                EXPECT_EQ(be32(d.payload, 36) >> 16, 0x0106u);
                EXPECT_EQ(be32(d.payload, 88), 0xFFFFu);
                EXPECT_EQ(std::vector<uint8_t>(d.payload.data() + 92, d.payload.data() + 96),
                    std::vector<uint8_t>(packet.source.octets, packet.source.octets + 4));
                EXPECT_EQ(std::vector<uint8_t>(d.payload.data() + 108, d.payload.data() + 112),
                    std::vector<uint8_t>(packet.destination.octets, packet.destination.octets + 4));
            }
        } else {
            // rxe's RC QPNs start at 0x11 and these runs make a handful.
            EXPECT_GE(bth.dest_qpn, 0x11u);
            EXPECT_LT(bth.dest_qpn, 0x100u);
            EXPECT_EQ(packet.source_port & 0xC000, 0xC000) << "RC source port 0xC000 | flow label bits";
        }
        if (d.info->has(header_aeth) && d.headers.aeth.kind == AethKind::Nak
            && d.headers.aeth.nak_code() == NakCode::RemoteAccessError)
            ++summary.remote_access_naks;
        if (is_request(bth.opcode) && bth.opcode != Opcode::UdSendOnly) {
            uint32_t dst = be32(packet.ip_header, 16);
            auto key = std::make_pair(dst, bth.dest_qpn);
            auto found = last_psn.find(key);
            if (found != last_psn.end()) {
                // Next PSN: forward by a few (a READ takes one per response
                // packet); a retransmission may step back a little.
                uint32_t delta = (bth.psn - found->second) & 0xFFFFFF;
                EXPECT_TRUE(delta <= 64 || delta >= (1u << 24) - 128)
                    << "PSN jump " << found->second << " -> " << bth.psn;
            }
            last_psn[key] = bth.psn;
        }
    }
}

TEST(RdmaCapture, RpingPacketsVerifyAndDecode)
{
    Summary summary;
    check_capture("rping.pcap", summary);
    EXPECT_GE(summary.roce, 30u);
    // CM REQ/REP/RTU/DREQ/DREP, SEND_ONLY, WRITE_ONLY, READ request and response, ACK.
    for (uint8_t op : { 0x04, 0x0a, 0x0c, 0x10, 0x11, 0x64 })
        EXPECT_TRUE(summary.opcodes.count(op)) << "no opcode " << int(op);
    EXPECT_EQ(summary.cm_attributes, (std::set<uint16_t> { 0x10, 0x13, 0x14, 0x15, 0x16 }));
}

TEST(RdmaCapture, RdmaPeerPacketsVerifyAndDecode)
{
    Summary summary;
    check_capture("rdma-peer.pcap", summary);
    EXPECT_GE(summary.roce, 100u);
    // 1025-byte SEND, WRITE, WRITE_IMM and READ cut at path MTU 1024, and
    // the 3-byte ONLY forms (pad 1).
    for (uint8_t op : { 0x00, 0x02, 0x04, 0x06, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0f, 0x10, 0x11, 0x64 })
        EXPECT_TRUE(summary.opcodes.count(op)) << "no opcode " << int(op);
    // The out-of-bounds WRITE and READ: rxe's NAK "remote access error".
    EXPECT_EQ(summary.remote_access_naks, 2u);
}

TEST(RdmaCapture, EveryOneBitFlipFailsTheIcrc)
{
    // The planted failure for the check above: a corrupted copy of each
    // captured packet (one bit in the BTH, one in the last payload byte
    // before the ICRC) must not verify.
    size_t flipped = 0;
    for (const char* name : { "rping.pcap", "rdma-peer.pcap" }) {
        for (auto frame : read_pcap(fixture(name))) {
            RocePacket packet;
            if (!roce_packet(frame, packet))
                continue;
            for (size_t offset : { size_t(0), packet.transport.size() - icrc_size - 1 }) {
                std::vector<uint8_t> copy(packet.transport.data(), packet.transport.data() + packet.transport.size());
                copy[offset] ^= 0x10;
                EXPECT_TRUE(
                    verify_icrc_ipv4(packet.ip_header, packet.udp_header, { copy.data(), copy.size() }).is_error());
                ++flipped;
            }
        }
    }
    EXPECT_GE(flipped, 200u);
}

} // namespace
