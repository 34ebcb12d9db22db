// Ipv4Interface: two interfaces on a fake wire (ARP resolution, held packets,
// retries and give-up, cache expiry, UDP demux, ping), byte-exact replies to
// hand-built Linux-style frames, and every kind of malformed frame dropped
// and counted under ASan (each frame is an exact-size heap block).
#include <net/inet/lib/byte_order.h>
#include <net/inet/lib/internet_checksum.h>
#include <net/inet/lib/ipv4_interface.h>

#include <simulated_link.h>

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <functional>
#include <string>
#include <vector>

using namespace tessera;

namespace {

using Bytes = std::vector<uint8_t>;

Span<const uint8_t> span(const Bytes& b) { return { b.data(), b.size() }; }

constexpr uint64_t ms = 1'000'000;
const MacAddress mac_a { { 0x02, 0, 0, 0, 0, 0x0a } };
const MacAddress mac_b { { 0x02, 0, 0, 0, 0, 0x0b } };
const MacAddress mac_linux { { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } };
const Ipv4Address ip_a { { 192, 0, 2, 10 } };
const Ipv4Address ip_b { { 192, 0, 2, 11 } };
const Ipv4Address ip_linux { { 192, 0, 2, 100 } };
const Ipv4Address ip_nobody { { 192, 0, 2, 99 } };

Ipv4InterfaceConfig config_for(MacAddress mac, Ipv4Address ip)
{
    Ipv4InterfaceConfig config;
    config.mac = mac;
    config.ip = ip;
    config.prefix_length = 24;
    config.mtu = 1500;
    config.arp_retry_interval_ns = 100 * ms;
    config.arp_max_requests = 3;
    config.arp_entry_lifetime_ns = 10'000 * ms;
    config.arp_max_pending_per_address = 4;
    config.pending_slots = 8;
    return config;
}

// An interface whose transmitted frames are kept for the test.
struct Station {
    explicit Station(const Ipv4InterfaceConfig& config)
    {
        auto created = Ipv4Interface::try_create(config, on_transmit, this);
        EXPECT_FALSE(created.is_error());
        interface = created.release_value();
    }

    static ErrorOr<void> on_transmit(void* context, Span<const uint8_t> frame)
    {
        auto& self = *static_cast<Station*>(context);
        if (self.refuse_transmit)
            return Error(Errno::AGAIN, "test: ring full");
        self.sent.emplace_back(frame.data(), frame.data() + frame.size());
        return {};
    }

    // Feeds one frame (as an exact-size heap block) and runs any delivery.
    void receive(const Bytes& frame, uint64_t now)
    {
        Bytes exact(frame);
        auto delivery = interface->receive_frame(span(exact), now);
        if (delivery.has_value())
            delivery->invoke();
    }

    OwnPtr<Ipv4Interface> interface;
    std::deque<Bytes> sent;
    bool refuse_transmit { false };
};

// Moves frames both ways until the wire is quiet.
void pump(Station& a, Station& b, uint64_t now)
{
    while (!a.sent.empty() || !b.sent.empty()) {
        while (!a.sent.empty()) {
            Bytes frame = std::move(a.sent.front());
            a.sent.pop_front();
            b.receive(frame, now);
        }
        while (!b.sent.empty()) {
            Bytes frame = std::move(b.sent.front());
            b.sent.pop_front();
            a.receive(frame, now);
        }
    }
}

struct Received {
    uint16_t port;
    UdpReceiveInfo info;
    Bytes ip_packet;
    Bytes payload;
};

void record_udp(void* context, Span<const uint8_t> ip_packet, const UdpReceiveInfo& info)
{
    auto& log = *static_cast<std::vector<Received>*>(context);
    log.push_back({ info.destination_port, info, Bytes(ip_packet.data(), ip_packet.data() + ip_packet.size()),
        Bytes(info.payload.data(), info.payload.data() + info.payload.size()) });
}

// --- Independent frame builders (not the stack's encoders) -------------------

uint16_t checksum(const uint8_t* data, size_t size, uint32_t sum = 0)
{
    for (size_t i = 0; i + 1 < size; i += 2)
        sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
    if (size % 2)
        sum += static_cast<uint32_t>(data[size - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

void put16(Bytes& b, size_t offset, uint16_t value)
{
    b[offset] = static_cast<uint8_t>(value >> 8);
    b[offset + 1] = static_cast<uint8_t>(value);
}

void append(Bytes& b, const uint8_t* data, size_t size) { b.insert(b.end(), data, data + size); }

Bytes ethernet(MacAddress destination, MacAddress source, uint16_t type)
{
    Bytes frame;
    append(frame, destination.octets, 6);
    append(frame, source.octets, 6);
    frame.push_back(static_cast<uint8_t>(type >> 8));
    frame.push_back(static_cast<uint8_t>(type));
    return frame;
}

// An IPv4 header (no options) at the end of `frame`, checksum filled in.
void ipv4(Bytes& frame, Ipv4Address source, Ipv4Address destination, uint8_t protocol, size_t payload_size,
    uint16_t identification = 0x1234, uint16_t flags = 0x4000, uint8_t ttl = 64)
{
    size_t at = frame.size();
    frame.resize(at + 20, 0);
    frame[at] = 0x45;
    put16(frame, at + 2, static_cast<uint16_t>(20 + payload_size));
    put16(frame, at + 4, identification);
    put16(frame, at + 6, flags);
    frame[at + 8] = ttl;
    frame[at + 9] = protocol;
    std::memcpy(&frame[at + 12], source.octets, 4);
    std::memcpy(&frame[at + 16], destination.octets, 4);
    put16(frame, at + 10, checksum(&frame[at], 20));
}

Bytes ping_payload()
{
    Bytes data(56);
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<uint8_t>(i);
    return data;
}

Bytes echo_frame(MacAddress destination_mac, Ipv4Address destination, uint8_t type = 8, uint8_t code = 0,
    const Bytes& data = ping_payload())
{
    Bytes frame = ethernet(destination_mac, mac_linux, 0x0800);
    ipv4(frame, ip_linux, destination, 1, 8 + data.size());
    size_t at = frame.size();
    frame.resize(at + 8, 0);
    frame[at] = type;
    frame[at + 1] = code;
    put16(frame, at + 4, 0x1f2e);
    put16(frame, at + 6, 7);
    append(frame, data.data(), data.size());
    put16(frame, at + 2, checksum(&frame[at], 8 + data.size()));
    return frame;
}

Bytes udp_frame(MacAddress destination_mac, Ipv4Address destination, uint16_t port, const Bytes& payload)
{
    Bytes frame = ethernet(destination_mac, mac_linux, 0x0800);
    ipv4(frame, ip_linux, destination, 17, 8 + payload.size());
    size_t at = frame.size();
    frame.resize(at + 8, 0);
    put16(frame, at, 40000);
    put16(frame, at + 2, port);
    put16(frame, at + 4, static_cast<uint16_t>(8 + payload.size()));
    append(frame, payload.data(), payload.size());
    Bytes pseudo;
    append(pseudo, ip_linux.octets, 4);
    append(pseudo, destination.octets, 4);
    pseudo.push_back(0);
    pseudo.push_back(17);
    pseudo.push_back(0);
    pseudo.push_back(0);
    put16(pseudo, 10, static_cast<uint16_t>(8 + payload.size()));
    uint32_t sum = 0;
    for (size_t i = 0; i < pseudo.size(); i += 2)
        sum += static_cast<uint32_t>(pseudo[i] << 8 | pseudo[i + 1]);
    uint16_t value = checksum(&frame[at], 8 + payload.size(), sum);
    put16(frame, at + 6, value == 0 ? 0xffff : value);
    return frame;
}

Bytes arp_frame(MacAddress destination_mac, uint16_t operation, MacAddress sender_mac, Ipv4Address sender_ip,
    MacAddress target_mac, Ipv4Address target_ip)
{
    Bytes frame = ethernet(destination_mac, sender_mac, 0x0806);
    const uint8_t fixed[] = { 0, 1, 8, 0, 6, 4, 0, static_cast<uint8_t>(operation) };
    append(frame, fixed, sizeof(fixed));
    append(frame, sender_mac.octets, 6);
    append(frame, sender_ip.octets, 4);
    append(frame, target_mac.octets, 6);
    append(frame, target_ip.octets, 4);
    return frame;
}

uint64_t drops(const Station& s, DropReason reason) { return s.interface->counters().dropped(reason); }

} // namespace

// --- Two interfaces on a wire -------------------------------------------------

TEST(Ipv4Interface, PingAcrossTheWireResolvesArpFirst)
{
    Station a(config_for(mac_a, ip_a));
    Station b(config_for(mac_b, ip_b));
    Bytes data = { 'h', 'i' };
    ASSERT_FALSE(a.interface->send_echo_request(ip_b, 9, 1, span(data), 0).is_error());
    ASSERT_EQ(a.sent.size(), 1u); // Only the ARP request: the ping is held.
    EXPECT_EQ(a.sent.front()[12], 0x08);
    EXPECT_EQ(a.sent.front()[13], 0x06);
    EXPECT_EQ(a.sent.front().size(), 60u); // Padded to the Ethernet minimum.
    EXPECT_EQ(a.interface->pending_packet_count(), 1u);
    pump(a, b, 1 * ms);
    const auto& ca = a.interface->counters();
    const auto& cb = b.interface->counters();
    EXPECT_EQ(ca.tx_arp_requests, 1u);
    EXPECT_EQ(cb.rx_arp_requests, 1u);
    EXPECT_EQ(cb.tx_arp_replies, 1u);
    EXPECT_EQ(ca.rx_arp_replies, 1u);
    EXPECT_EQ(cb.rx_icmp_echo_requests, 1u);
    EXPECT_EQ(cb.tx_icmp_echo_replies, 1u);
    EXPECT_EQ(ca.rx_icmp_echo_replies, 1u);
    EXPECT_EQ(a.interface->last_echo_reply_identifier(), 9);
    EXPECT_EQ(a.interface->last_echo_reply_sequence(), 1);
    EXPECT_EQ(a.interface->pending_packet_count(), 0u);
    EXPECT_EQ(ca.total_drops(), 0u);
    EXPECT_EQ(cb.total_drops(), 0u);
    // B learned A from the request addressed to it; A learned B from the reply.
    EXPECT_TRUE(b.interface->arp_lookup(ip_a, 1 * ms).has_value());
    ASSERT_TRUE(a.interface->arp_lookup(ip_b, 1 * ms).has_value());
    EXPECT_EQ(a.interface->arp_lookup(ip_b, 1 * ms).value(), mac_b);
    // A second ping needs no ARP.
    ASSERT_FALSE(a.interface->send_echo_request(ip_b, 9, 2, span(data), 2 * ms).is_error());
    pump(a, b, 2 * ms);
    EXPECT_EQ(ca.tx_arp_requests, 1u);
    EXPECT_EQ(ca.rx_icmp_echo_replies, 2u);
    EXPECT_EQ(a.interface->last_echo_reply_sequence(), 2);
}

TEST(Ipv4Interface, HeldPacketsAreFlushedInOrderOnResolution)
{
    Station a(config_for(mac_a, ip_a));
    Station b(config_for(mac_b, ip_b));
    std::vector<Received> log;
    ASSERT_FALSE(b.interface->bind_udp(5000, record_udp, &log).is_error());
    for (uint8_t i = 0; i < 4; ++i) {
        Bytes payload = { i, i, i };
        ASSERT_FALSE(a.interface->udp_send(ip_b, 1234, 5000, span(payload), 0).is_error());
    }
    EXPECT_EQ(a.sent.size(), 1u); // One ARP request for all four.
    EXPECT_EQ(a.interface->pending_packet_count(), 4u);
    // The fifth exceeds the per-destination bound (4): refused and counted.
    Bytes payload = { 9 };
    auto refused = a.interface->udp_send(ip_b, 1234, 5000, span(payload), 0);
    ASSERT_TRUE(refused.is_error());
    EXPECT_EQ(refused.error().code(), Errno::NOBUFS);
    EXPECT_EQ(drops(a, DropReason::ArpQueueFull), 1u);
    pump(a, b, 1 * ms);
    ASSERT_EQ(log.size(), 4u);
    for (uint8_t i = 0; i < 4; ++i) {
        EXPECT_EQ(log[i].payload, (Bytes { i, i, i }));
        EXPECT_EQ(log[i].info.source_ip, ip_a);
        EXPECT_EQ(log[i].info.destination_ip, ip_b);
        EXPECT_EQ(log[i].info.source_port, 1234);
        // The whole IPv4 packet: header through the end of the total length.
        ASSERT_EQ(log[i].ip_packet.size(), 20u + 8 + 3);
        EXPECT_EQ(log[i].ip_packet[0], 0x45);
        EXPECT_EQ(log[i].ip_packet[6] & 0x40, 0x40); // DF
        EXPECT_EQ(internet_checksum(span(log[i].ip_packet).first(20)), 0);
    }
    EXPECT_EQ(a.interface->counters().tx_udp, 4u);
    EXPECT_EQ(b.interface->counters().rx_udp, 4u);
}

TEST(Ipv4Interface, UnansweredArpIsRetriedThenHeldPacketsAreDropped)
{
    Station a(config_for(mac_a, ip_a));
    Bytes payload = { 1, 2, 3 };
    ASSERT_FALSE(a.interface->udp_send(ip_nobody, 1, 2, span(payload), 0).is_error());
    ASSERT_FALSE(a.interface->udp_send(ip_nobody, 1, 2, span(payload), 10 * ms).is_error());
    EXPECT_EQ(a.interface->next_deadline_ns(), 100 * ms);
    a.interface->poll(99 * ms);
    EXPECT_EQ(a.interface->counters().tx_arp_requests, 1u);
    a.interface->poll(100 * ms);
    EXPECT_EQ(a.interface->counters().tx_arp_requests, 2u);
    a.interface->poll(200 * ms);
    EXPECT_EQ(a.interface->counters().tx_arp_requests, 3u);
    EXPECT_EQ(a.interface->pending_packet_count(), 2u);
    a.interface->poll(299 * ms);
    EXPECT_EQ(drops(a, DropReason::ArpUnresolved), 0u);
    a.interface->poll(300 * ms); // Three requests sent, the last unanswered: give up.
    EXPECT_EQ(a.interface->counters().tx_arp_requests, 3u);
    EXPECT_EQ(drops(a, DropReason::ArpUnresolved), 2u);
    EXPECT_EQ(a.interface->pending_packet_count(), 0u);
    EXPECT_EQ(a.interface->next_deadline_ns(), ~0ull);
    for (const Bytes& frame : a.sent) {
        EXPECT_EQ(frame[13], 0x06); // Nothing but ARP left the interface.
        EXPECT_EQ(std::memcmp(&frame[38], ip_nobody.octets, 4), 0);
    }
    // A later packet starts a fresh resolution.
    ASSERT_FALSE(a.interface->udp_send(ip_nobody, 1, 2, span(payload), 400 * ms).is_error());
    EXPECT_EQ(a.interface->counters().tx_arp_requests, 4u);
}

TEST(Ipv4Interface, SlotPoolIsSharedAndBounded)
{
    auto config = config_for(mac_a, ip_a);
    config.pending_slots = 3;
    Station a(config);
    Bytes payload = { 1 };
    for (uint8_t host = 50; host < 53; ++host)
        ASSERT_FALSE(a.interface->udp_send(Ipv4Address { { 192, 0, 2, host } }, 1, 2, span(payload), 0).is_error());
    auto refused = a.interface->udp_send(Ipv4Address { { 192, 0, 2, 60 } }, 1, 2, span(payload), 0);
    ASSERT_TRUE(refused.is_error());
    EXPECT_EQ(refused.error().code(), Errno::NOBUFS);
    EXPECT_EQ(drops(a, DropReason::ArpQueueFull), 1u);
    EXPECT_EQ(a.interface->counters().tx_arp_requests, 3u);
}

TEST(Ipv4Interface, CachedMappingExpiresAndIsResolvedAgain)
{
    Station a(config_for(mac_a, ip_a));
    Station b(config_for(mac_b, ip_b));
    Bytes data;
    ASSERT_FALSE(a.interface->send_echo_request(ip_b, 1, 1, span(data), 0).is_error());
    pump(a, b, 0);
    EXPECT_TRUE(a.interface->arp_lookup(ip_b, 9'999 * ms).has_value());
    a.interface->poll(10'000 * ms);
    EXPECT_FALSE(a.interface->arp_lookup(ip_b, 10'000 * ms).has_value());
    ASSERT_FALSE(a.interface->send_echo_request(ip_b, 1, 2, span(data), 10'001 * ms).is_error());
    EXPECT_EQ(a.interface->counters().tx_arp_requests, 2u);
    pump(a, b, 10'001 * ms);
    EXPECT_EQ(a.interface->counters().rx_icmp_echo_replies, 2u);
}

TEST(Ipv4Interface, UdpDemuxToBoundPortsAndUnknownPortCounted)
{
    Station b(config_for(mac_b, ip_b));
    std::vector<Received> log_one;
    std::vector<Received> log_two;
    ASSERT_FALSE(b.interface->bind_udp(4791, record_udp, &log_one).is_error());
    ASSERT_FALSE(b.interface->bind_udp(7000, record_udp, &log_two).is_error());
    b.receive(udp_frame(mac_b, ip_b, 4791, { 'r', 'o', 'c', 'e' }), 0);
    b.receive(udp_frame(mac_b, ip_b, 7000, { 'r', 'p', 'c' }), 0);
    b.receive(udp_frame(mac_b, ip_b, 7001, { 'x' }), 0);
    ASSERT_EQ(log_one.size(), 1u);
    ASSERT_EQ(log_two.size(), 1u);
    EXPECT_EQ(log_one[0].payload, (Bytes { 'r', 'o', 'c', 'e' }));
    EXPECT_EQ(log_one[0].info.source_port, 40000);
    EXPECT_EQ(log_one[0].info.source_ip, ip_linux);
    Bytes expected_packet = udp_frame(mac_b, ip_b, 4791, { 'r', 'o', 'c', 'e' });
    expected_packet.erase(expected_packet.begin(), expected_packet.begin() + 14);
    EXPECT_EQ(log_one[0].ip_packet, expected_packet);
    EXPECT_EQ(log_two[0].payload, (Bytes { 'r', 'p', 'c' }));
    EXPECT_EQ(drops(b, DropReason::UdpNoPort), 1u);
    EXPECT_TRUE(b.sent.empty()); // No ICMP port unreachable.
    // Ethernet padding after a short datagram is not part of the packet.
    Bytes padded = udp_frame(mac_b, ip_b, 7000, { 'p' });
    padded.resize(60, 0xee);
    b.receive(padded, 0);
    ASSERT_EQ(log_two.size(), 2u);
    EXPECT_EQ(log_two[1].ip_packet.size(), 29u);
    EXPECT_EQ(log_two[1].payload, (Bytes { 'p' }));
    // Unbound, the port counts as unknown again.
    b.interface->unbind_udp(7000);
    b.receive(udp_frame(mac_b, ip_b, 7000, { 'r' }), 0);
    EXPECT_EQ(log_two.size(), 2u);
    EXPECT_EQ(drops(b, DropReason::UdpNoPort), 2u);
}

TEST(Ipv4Interface, BindUdpErrors)
{
    Station b(config_for(mac_b, ip_b));
    std::vector<Received> log;
    EXPECT_EQ(b.interface->bind_udp(0, record_udp, &log).error().code(), Errno::INVAL);
    EXPECT_EQ(b.interface->bind_udp(1, nullptr, &log).error().code(), Errno::INVAL);
    ASSERT_FALSE(b.interface->bind_udp(1, record_udp, &log).is_error());
    EXPECT_EQ(b.interface->bind_udp(1, record_udp, &log).error().code(), Errno::ADDRINUSE);
    for (uint16_t port = 2; port <= Ipv4Interface::max_udp_bindings; ++port)
        ASSERT_FALSE(b.interface->bind_udp(port, record_udp, &log).is_error());
    EXPECT_EQ(b.interface->bind_udp(999, record_udp, &log).error().code(), Errno::NOSPC);
}

TEST(Ipv4Interface, SendIpv4PacketCarriesTheCallersPacketUnchanged)
{
    Station a(config_for(mac_a, ip_a));
    Station b(config_for(mac_b, ip_b));
    std::vector<Received> log;
    ASSERT_FALSE(b.interface->bind_udp(4791, record_udp, &log).is_error());
    // A packet built as the RoCE engine does: IPv4 + UDP 4791 + opaque bytes.
    Bytes frame = udp_frame(mac_b, ip_b, 4791, Bytes(100, 0x5a));
    Bytes packet(frame.begin() + 14, frame.end());
    std::memcpy(&packet[12], ip_a.octets, 4); // Our source; redo both checksums.
    put16(packet, 10, 0);
    put16(packet, 10, checksum(packet.data(), 20));
    put16(packet, 26, 0); // UDP checksum 0: "not computed" is valid over IPv4.
    ASSERT_FALSE(a.interface->send_ipv4_packet(span(packet), 0).is_error());
    pump(a, b, 0);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].ip_packet, packet);

    auto code = [&](Bytes p) { return a.interface->send_ipv4_packet(span(p), 0).error().code(); };
    Bytes bad_checksum = packet;
    bad_checksum[10] ^= 1;
    EXPECT_EQ(code(bad_checksum), Errno::INVAL);
    Bytes no_df = packet;
    put16(no_df, 6, 0);
    put16(no_df, 10, 0);
    put16(no_df, 10, checksum(no_df.data(), 20));
    EXPECT_EQ(code(no_df), Errno::INVAL);
    Bytes trailing = packet;
    trailing.push_back(0);
    EXPECT_EQ(code(trailing), Errno::INVAL);
    Bytes foreign = packet;
    std::memcpy(&foreign[12], ip_linux.octets, 4);
    put16(foreign, 10, 0);
    put16(foreign, 10, checksum(foreign.data(), 20));
    EXPECT_EQ(code(foreign), Errno::ADDRNOTAVAIL);
    auto retarget = [&](Ipv4Address to) {
        Bytes p = packet;
        std::memcpy(&p[16], to.octets, 4);
        put16(p, 10, 0);
        put16(p, 10, checksum(p.data(), 20));
        return p;
    };
    EXPECT_EQ(code(retarget(Ipv4Address { { 10, 0, 0, 1 } })), Errno::NETUNREACH);
    EXPECT_EQ(code(retarget(ip_a)), Errno::INVAL);
    Bytes huge(1501, 0);
    EXPECT_EQ(code(huge), Errno::MSGSIZE);
    Bytes big_payload(1500 - 28 + 1, 0);
    EXPECT_EQ(a.interface->udp_send(ip_b, 1, 2, span(big_payload), 0).error().code(), Errno::MSGSIZE);
    big_payload.pop_back();
    EXPECT_FALSE(a.interface->udp_send(ip_b, 1, 4791, span(big_payload), 0).is_error());
    EXPECT_EQ(a.sent.back().size(), 1514u);
}

TEST(Ipv4Interface, TransmitFailureIsCounted)
{
    Station a(config_for(mac_a, ip_a));
    a.refuse_transmit = true;
    Bytes payload = { 1 };
    // The ARP request fails to go out; the packet is held and the retry tries again.
    ASSERT_FALSE(a.interface->udp_send(ip_b, 1, 2, span(payload), 0).is_error());
    EXPECT_EQ(drops(a, DropReason::TransmitFailed), 1u);
    EXPECT_EQ(a.interface->counters().tx_arp_requests, 0u);
    a.refuse_transmit = false;
    a.interface->poll(100 * ms);
    EXPECT_EQ(a.interface->counters().tx_arp_requests, 1u);
}

// --- Byte-exact answers to a Linux peer --------------------------------------

TEST(Ipv4Interface, AnswersArpRequestByteExact)
{
    Station b(config_for(mac_b, ip_b));
    b.receive(arp_frame(MacAddress::broadcast(), 1, mac_linux, ip_linux, MacAddress {}, ip_b), 0);
    ASSERT_EQ(b.sent.size(), 1u);
    Bytes expected = arp_frame(mac_linux, 2, mac_b, ip_b, mac_linux, ip_linux);
    expected.resize(60, 0);
    EXPECT_EQ(b.sent.front(), expected);
    EXPECT_TRUE(b.interface->arp_lookup(ip_linux, 0).has_value());
}

TEST(Ipv4Interface, AnswersPingByteExact)
{
    Station b(config_for(mac_b, ip_b));
    b.receive(echo_frame(mac_b, ip_b), 0);
    ASSERT_EQ(b.sent.size(), 1u);
    // Expected: Ethernet back to the asker; IPv4 id 1 (our first), DF, TTL 64;
    // ICMP type 0 with the request's identifier, sequence and data.
    Bytes expected = ethernet(mac_linux, mac_b, 0x0800);
    Bytes data = ping_payload();
    ipv4(expected, ip_b, ip_linux, 1, 8 + data.size(), 1, 0x4000, 64);
    size_t at = expected.size();
    expected.resize(at + 8, 0);
    put16(expected, at + 4, 0x1f2e);
    put16(expected, at + 6, 7);
    append(expected, data.data(), data.size());
    put16(expected, at + 2, checksum(&expected[at], 8 + data.size()));
    EXPECT_EQ(b.sent.front(), expected);
    EXPECT_EQ(b.interface->counters().tx_icmp_echo_replies, 1u);
    // An odd-sized payload too (the checksum's padding byte).
    b.sent.clear();
    Bytes odd = { 1, 2, 3 };
    b.receive(echo_frame(mac_b, ip_b, 8, 0, odd), 0);
    ASSERT_EQ(b.sent.size(), 1u);
    Bytes reply(b.sent.front().begin() + 34, b.sent.front().begin() + 34 + 11);
    EXPECT_EQ(checksum(reply.data(), reply.size()), 0);
    EXPECT_EQ(reply[0], 0);
    EXPECT_EQ(Bytes(reply.begin() + 8, reply.end()), odd);
}

// --- Malformed input: dropped, counted, never a crash --------------------------

namespace {

struct MalformedCase {
    const char* name;
    std::function<Bytes()> frame;
    DropReason reason;
};

Bytes with(Bytes frame, size_t offset, uint8_t value)
{
    frame.at(offset) = value;
    return frame;
}

// Sets IPv4 header bytes and recomputes the header checksum, so that only
// the intended field is wrong.
Bytes with_ip(Bytes frame, size_t offset, uint8_t value)
{
    frame.at(14 + offset) = value;
    size_t header = static_cast<size_t>(frame[14] & 0x0f) * 4;
    if (header < 20 || 14 + header > frame.size())
        header = 20;
    put16(frame, 24, 0);
    put16(frame, 24, checksum(&frame[14], header));
    return frame;
}

Bytes truncated(Bytes frame, size_t size)
{
    frame.resize(size);
    return frame;
}

std::vector<MalformedCase> malformed_cases()
{
    Bytes ping = echo_frame(mac_b, ip_b);
    Bytes udp = udp_frame(mac_b, ip_b, 4791, { 1, 2, 3, 4 });
    Bytes arp = arp_frame(MacAddress::broadcast(), 1, mac_linux, ip_linux, MacAddress {}, ip_b);
    return {
        { "empty", [] { return Bytes {}; }, DropReason::EthernetMalformed },
        { "13 bytes", [=] { return truncated(ping, 13); }, DropReason::EthernetMalformed },
        { "vlan tag", [=] { return with(with(ping, 12, 0x81), 13, 0x00); }, DropReason::EthernetMalformed },
        { "802.3 length", [=] { return with(with(ping, 12, 0x00), 13, 0x40); }, DropReason::EthernetMalformed },
        { "group source mac", [=] { return with(ping, 6, 0x01); }, DropReason::EthernetMalformed },
        { "too long", [=] { return truncated(ping, 1515); }, DropReason::FrameTooLong },
        { "other mac", [=] { return with(ping, 5, 0x77); }, DropReason::NotOurMac },
        { "multicast mac", [=] { return with(ping, 0, 0x01); }, DropReason::NotOurMac },
        { "ipv6", [=] { return with(with(ping, 12, 0x86), 13, 0xdd); }, DropReason::UnknownEtherType },
        { "arp short", [=] { return truncated(arp, 14 + 27); }, DropReason::ArpMalformed },
        { "arp htype", [=] { return with(arp, 15, 6); }, DropReason::ArpMalformed },
        { "arp ptype", [=] { return with(arp, 16, 0x86); }, DropReason::ArpMalformed },
        { "arp hlen", [=] { return with(arp, 18, 8); }, DropReason::ArpMalformed },
        { "arp plen", [=] { return with(arp, 19, 16); }, DropReason::ArpMalformed },
        { "arp opcode", [=] { return with(arp, 21, 3); }, DropReason::ArpMalformed },
        { "arp group sender", [=] { return with(arp, 22, 0x01); }, DropReason::ArpMalformed },
        { "arp off-subnet sender", [=] { return with(arp, 28, 10); }, DropReason::ArpMalformed },
        { "arp broadcast sender", [=] { return with(arp, 31, 255); }, DropReason::ArpMalformed },
        { "arp for another", [=] { return with(arp, 41, 12); }, DropReason::ArpNotForUs },
        { "arp claims our ip", [=] { return with(arp, 31, 11); }, DropReason::ArpAddressConflict },
        { "ipv4 short", [=] { return truncated(ping, 14 + 19); }, DropReason::Ipv4Malformed },
        { "ipv4 version 6", [=] { return with_ip(ping, 0, 0x65); }, DropReason::Ipv4Malformed },
        { "ipv4 ihl 4", [=] { return with_ip(ping, 0, 0x44); }, DropReason::Ipv4Malformed },
        { "ipv4 ihl past end", [=] { return with_ip(truncated(ping, 14 + 40), 0, 0x4f); }, DropReason::Ipv4Malformed },
        { "ipv4 total length past frame", [=] { return with_ip(ping, 2, 0x10); }, DropReason::Ipv4Malformed },
        { "ipv4 total length below header", [=] { return with_ip(with_ip(ping, 2, 0), 3, 19); },
            DropReason::Ipv4Malformed },
        { "ipv4 bad checksum", [=] { return with(ping, 24, ping[24] ^ 0x01); }, DropReason::Ipv4Malformed },
        { "ipv4 reserved flag", [=] { return with_ip(ping, 6, 0xc0); }, DropReason::Ipv4Malformed },
        { "ipv4 more fragments", [=] { return with_ip(ping, 6, 0x20); }, DropReason::Ipv4Malformed },
        { "ipv4 fragment offset", [=] { return with_ip(ping, 7, 0x01); }, DropReason::Ipv4Malformed },
        { "ipv4 ttl 0", [=] { return with_ip(ping, 8, 0); }, DropReason::Ipv4Malformed },
        { "ipv4 other destination", [=] { return with_ip(ping, 19, 12); }, DropReason::Ipv4NotForUs },
        { "ipv4 off-subnet destination", [=] { return with_ip(ping, 16, 10); }, DropReason::Ipv4NotForUs },
        { "ipv4 source zero", [=] { return with_ip(with_ip(with_ip(with_ip(ping, 12, 0), 13, 0), 14, 0), 15, 0); },
            DropReason::Ipv4BadSource },
        { "ipv4 multicast source", [=] { return with_ip(ping, 12, 224); }, DropReason::Ipv4BadSource },
        { "ipv4 broadcast source", [=] { return with_ip(ping, 15, 255); }, DropReason::Ipv4BadSource },
        { "ipv4 our own source", [=] { return with_ip(ping, 15, 11); }, DropReason::Ipv4BadSource },
        { "ipv4 loopback source", [=] { return with_ip(ping, 12, 127); }, DropReason::Ipv4BadSource },
        { "ipv4 tcp", [=] { return with_ip(ping, 9, 6); }, DropReason::Ipv4UnknownProtocol },
        { "icmp short",
            [=] {
                Bytes frame = ethernet(mac_b, mac_linux, 0x0800);
                ipv4(frame, ip_linux, ip_b, 1, 4);
                frame.insert(frame.end(), { 8, 0, 0xf7, 0xff });
                return frame;
            },
            DropReason::IcmpMalformed },
        { "icmp bad checksum", [=] { return with(ping, 36, ping[36] ^ 0x80); }, DropReason::IcmpMalformed },
        { "icmp data corrupted", [=] { return with(ping, 60, ping[60] ^ 0x04); }, DropReason::IcmpMalformed },
        { "icmp code 1", [=] { return echo_frame(mac_b, ip_b, 8, 1); }, DropReason::IcmpMalformed },
        { "icmp timestamp", [=] { return echo_frame(mac_b, ip_b, 13, 0); }, DropReason::IcmpUnsupported },
        { "icmp to broadcast",
            [=] {
                return echo_frame(MacAddress::broadcast(), Ipv4Address { { 192, 0, 2, 255 } });
            },
            DropReason::IcmpBroadcast },
        { "udp short", [=] { return with_ip(truncated(udp, 14 + 20 + 7), 3, 27); }, DropReason::UdpMalformed },
        { "udp length mismatch", [=] { return with(udp, 14 + 20 + 5, 11); }, DropReason::UdpMalformed },
        { "udp length below 8", [=] { return with(udp, 14 + 20 + 5, 7); }, DropReason::UdpMalformed },
        { "udp bad checksum", [=] { return with(udp, 14 + 20 + 7, udp[41] ^ 0x10); }, DropReason::UdpMalformed },
        { "udp payload corrupted", [=] { return with(udp, 14 + 28, 0xff); }, DropReason::UdpMalformed },
        { "udp port changed after checksum", [=] { return with(with(udp, 36, 0x00), 37, 0x09); },
            DropReason::UdpMalformed },
        { "udp to unbound port", [=] { return udp_frame(mac_b, ip_b, 9, { 1 }); }, DropReason::UdpNoPort },
    };
}

} // namespace

TEST(Ipv4Interface, EveryMalformedFrameIsDroppedAndCountedByReason)
{
    for (const MalformedCase& test : malformed_cases()) {
        SCOPED_TRACE(test.name);
        Station b(config_for(mac_b, ip_b));
        std::vector<Received> log;
        ASSERT_FALSE(b.interface->bind_udp(4791, record_udp, &log).is_error());
        b.receive(test.frame(), 0);
        EXPECT_EQ(drops(b, test.reason), 1u) << drop_reason_name(test.reason);
        EXPECT_EQ(b.interface->counters().total_drops(), 1u);
        EXPECT_TRUE(b.sent.empty());
        EXPECT_TRUE(log.empty());
        EXPECT_FALSE(b.interface->arp_lookup(ip_linux, 0).has_value());
    }
}

TEST(Ipv4Interface, ValidFramesOfTheMalformedTableAreAccepted)
{
    // The control: the unmutated frames pass, so each case above fails only
    // for its own mutation.
    Station b(config_for(mac_b, ip_b));
    std::vector<Received> log;
    ASSERT_FALSE(b.interface->bind_udp(4791, record_udp, &log).is_error());
    b.receive(echo_frame(mac_b, ip_b), 0);
    b.receive(udp_frame(mac_b, ip_b, 4791, { 1, 2, 3, 4 }), 0);
    b.receive(arp_frame(MacAddress::broadcast(), 1, mac_linux, ip_linux, MacAddress {}, ip_b), 0);
    EXPECT_EQ(b.interface->counters().total_drops(), 0u);
    EXPECT_EQ(log.size(), 1u);
    EXPECT_EQ(b.sent.size(), 2u);
}

TEST(Ipv4Interface, RandomCorruptionNeverDeliversWrongBytes)
{
    // Every frame of a UDP exchange crosses a wire that flips one bit of
    // each; whatever arrives must be either dropped or exactly what was sent
    // (a flipped source MAC or padding byte is not covered by any checksum).
    Station a(config_for(mac_a, ip_a));
    Station b(config_for(mac_b, ip_b));
    std::vector<Received> log;
    ASSERT_FALSE(b.interface->bind_udp(4791, record_udp, &log).is_error());
    Bytes data;
    ASSERT_FALSE(a.interface->send_echo_request(ip_b, 1, 1, span(data), 0).is_error());
    pump(a, b, 0);
    test::SimulatedLink link({ .corrupt = 1.0, .seed = 11 });
    Bytes payload(64);
    for (size_t i = 0; i < payload.size(); ++i)
        payload[i] = static_cast<uint8_t>(i * 7);
    for (int round = 0; round < 2000; ++round) {
        ASSERT_FALSE(a.interface->udp_send(ip_b, 1, 4791, span(payload), 0).is_error());
        while (!a.sent.empty()) {
            link.send(0, a.sent.front());
            a.sent.pop_front();
        }
        for (auto& frame : link.deliver_due(1'000'000))
            b.receive(frame, 0);
    }
    EXPECT_EQ(link.counters().corrupted, 2000u);
    for (const Received& received : log)
        EXPECT_EQ(received.payload, payload);
    EXPECT_LT(log.size(), 2000u * 20 / 100); // Most flips land in checksummed bytes.
    EXPECT_EQ(log.size() + b.interface->counters().total_drops(), 2000u);
}

TEST(Ipv4Interface, RandomBytesNeverCrash)
{
    Station b(config_for(mac_b, ip_b));
    std::vector<Received> log;
    ASSERT_FALSE(b.interface->bind_udp(4791, record_udp, &log).is_error());
    uint64_t state = 42;
    auto next = [&] {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<uint32_t>(state >> 33);
    };
    Bytes seeds[] = { echo_frame(mac_b, ip_b), udp_frame(mac_b, ip_b, 4791, { 1, 2 }),
        arp_frame(MacAddress::broadcast(), 1, mac_linux, ip_linux, MacAddress {}, ip_b) };
    for (int i = 0; i < 20000; ++i) {
        Bytes frame = seeds[next() % 3];
        int edits = 1 + static_cast<int>(next() % 4);
        for (int e = 0; e < edits; ++e)
            frame[next() % frame.size()] = static_cast<uint8_t>(next());
        if (next() % 4 == 0)
            frame.resize(next() % (frame.size() + 1));
        b.receive(frame, 0);
        b.sent.clear();
    }
    EXPECT_EQ(b.interface->counters().rx_frames, 20000u);
}

TEST(Ipv4Interface, CreateRejectsBadConfiguration)
{
    auto bad = [](auto change) {
        auto config = config_for(mac_a, ip_a);
        change(config);
        auto created = Ipv4Interface::try_create(config, Station::on_transmit, nullptr);
        return created.is_error() && created.error().code() == Errno::INVAL;
    };
    EXPECT_TRUE(bad([](Ipv4InterfaceConfig& c) { c.mtu = 67; }));
    EXPECT_TRUE(bad([](Ipv4InterfaceConfig& c) { c.mtu = 65536; }));
    EXPECT_TRUE(bad([](Ipv4InterfaceConfig& c) { c.prefix_length = 31; }));
    EXPECT_TRUE(bad([](Ipv4InterfaceConfig& c) { c.arp_max_requests = 0; }));
    EXPECT_TRUE(bad([](Ipv4InterfaceConfig& c) { c.pending_slots = 0; }));
    EXPECT_TRUE(bad([](Ipv4InterfaceConfig& c) { c.pending_slots = 65; }));
}
