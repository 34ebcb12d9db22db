// The network stack in the kernel, across an in-memory cable (no NIC
// driver): ARP resolution and ping, a UDP round trip answered from inside a
// handler (so the stack's lock must be dropped around handlers), a whole
// IPv4 packet sent the way the RoCE provider sends one, corrupted frames
// dropped and counted rather than delivered (a planted fault), and packets
// to an address nobody answers dropped after the ARP retries.

#include <kernel/lib/string.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/selftest.h>
#include <kernel/time/clock.h>
#include <net/inet/cable_net_device.h>
#include <net/inet/lib/byte_order.h>
#include <net/inet/lib/internet_checksum.h>
#include <net/inet/net_interface.h>

namespace tessera {

namespace {

constexpr uint64_t give_up_ns = 3 * ns_per_second;
const MacAddress mac_a { { 0x02, 0x54, 0, 0, 0, 0x0a } };
const MacAddress mac_b { { 0x02, 0x54, 0, 0, 0, 0x0b } };
const Ipv4Address ip_a { { 192, 0, 2, 201 } };
const Ipv4Address ip_b { { 192, 0, 2, 202 } };

// Two interfaces on one cable, torn down in order: the cable stops
// delivering before the interfaces let go of the devices.
struct Pair {
    CableNetDevice device_a { "cable-a", mac_a, 1500 };
    CableNetDevice device_b { "cable-b", mac_b, 1500 };
    OwnPtr<NetInterface> a;
    OwnPtr<NetInterface> b;

    ~Pair()
    {
        device_a.stop();
        device_b.stop();
        a = {};
        b = {};
    }
};

OwnPtr<Pair> make_pair(uint64_t arp_retry_ns = ns_per_second)
{
    auto pair = adopt_own(new (kstd::nothrow) Pair);
    if (!pair)
        return {};
    CableNetDevice::connect(pair->device_a, pair->device_b);
    auto config_a = NetInterface::default_config(pair->device_a, ip_a, 24);
    auto config_b = NetInterface::default_config(pair->device_b, ip_b, 24);
    config_a.arp_retry_interval_ns = arp_retry_ns;
    auto a = NetInterface::try_create(pair->device_a, config_a);
    auto b = NetInterface::try_create(pair->device_b, config_b);
    if (a.is_error() || b.is_error())
        return {};
    pair->a = a.release_value();
    pair->b = b.release_value();
    return pair;
}

template<typename Predicate>
bool wait_until(Predicate predicate)
{
    uint64_t deadline = deadline_after_ns(give_up_ns);
    while (!predicate()) {
        if (uptime_ns() >= deadline)
            return false;
        sleep_ms(5);
    }
    return true;
}

struct UdpLog {
    kstd::atomic<uint32_t> count { 0 };
    uint8_t packet[128] {};
    size_t packet_size { 0 };
    uint8_t payload[64] {};
    size_t payload_size { 0 };
    UdpReceiveInfo info;
    NetInterface* reply_from { nullptr }; // When set, echoes the payload back.
    ErrorOr<void> reply_result {};
};

void record_udp(void* context, Span<const uint8_t> ip_packet, const UdpReceiveInfo& info)
{
    auto& log = *static_cast<UdpLog*>(context);
    log.packet_size = ip_packet.size() < sizeof(log.packet) ? ip_packet.size() : sizeof(log.packet);
    memcpy(log.packet, ip_packet.data(), log.packet_size);
    log.payload_size = info.payload.size() < sizeof(log.payload) ? info.payload.size() : sizeof(log.payload);
    memcpy(log.payload, info.payload.data(), log.payload_size);
    log.info = info;
    if (log.reply_from != nullptr)
        log.reply_result
            = log.reply_from->udp_send(info.source_ip, info.destination_port, info.source_port, info.payload);
    log.count.fetch_add(1);
}

void arp_resolution_and_ping()
{
    auto pair = make_pair();
    KEXPECT(pair);
    KSKIP_IF(!pair, "no memory for the cable");
    const uint8_t data[] = { 't', 'e', 's', 's', 'e', 'r', 'a' };
    KMUST(pair->a->send_echo_request(ip_b, 0x7e55, 1, Span<const uint8_t>(data)));
    KEXPECT(wait_until([&] { return pair->a->counters().rx_icmp_echo_replies == 1; }));
    InterfaceCounters a = pair->a->counters();
    InterfaceCounters b = pair->b->counters();
    KEXPECT_EQ(a.tx_arp_requests, 1u);
    KEXPECT_EQ(b.tx_arp_replies, 1u);
    KEXPECT_EQ(a.rx_arp_replies, 1u);
    KEXPECT_EQ(b.rx_icmp_echo_requests, 1u);
    KEXPECT_EQ(b.tx_icmp_echo_replies, 1u);
    KEXPECT_EQ(pair->a->last_echo_reply_sequence(), 1);
    KEXPECT_EQ(a.total_drops(), 0u);
    KEXPECT_EQ(b.total_drops(), 0u);
    auto learned = pair->a->arp_lookup(ip_b);
    KEXPECT(learned.has_value() && learned.value() == mac_b);
    // Resolved now: the second ping goes out without ARP.
    KMUST(pair->a->send_echo_request(ip_b, 0x7e55, 2, Span<const uint8_t>(data)));
    KEXPECT(wait_until([&] { return pair->a->counters().rx_icmp_echo_replies == 2; }));
    KEXPECT_EQ(pair->a->counters().tx_arp_requests, 1u);
    KEXPECT_EQ(pair->a->last_echo_reply_sequence(), 2);
}

void udp_round_trip_from_handler()
{
    auto pair = make_pair();
    KSKIP_IF(!pair, "no memory for the cable");
    UdpLog at_b;
    UdpLog at_a;
    at_b.reply_from = pair->b.ptr();
    KMUST(pair->b->bind_udp(7000, record_udp, &at_b));
    KMUST(pair->a->bind_udp(7001, record_udp, &at_a));
    const uint8_t payload[] = { 'p', 'i', 'n', 'g', '-', 'u', 'd', 'p' };
    KMUST(pair->a->udp_send(ip_b, 7001, 7000, Span<const uint8_t>(payload)));
    KEXPECT(wait_until([&] { return at_a.count.load() == 1; }));
    KEXPECT_EQ(at_b.count.load(), 1u);
    KEXPECT(!at_b.reply_result.is_error());
    KEXPECT_EQ(at_b.info.source_port, 7001);
    KEXPECT(at_b.info.source_ip == ip_a);
    KEXPECT_EQ(at_a.info.source_port, 7000);
    KEXPECT(at_a.info.source_ip == ip_b);
    KEXPECT_EQ(at_a.payload_size, sizeof(payload));
    KEXPECT(memcmp(at_a.payload, payload, sizeof(payload)) == 0);
    // The handler saw the whole IPv4 packet: header, UDP, payload.
    KEXPECT_EQ(at_b.packet_size, 20u + 8 + sizeof(payload));
    KEXPECT_EQ(at_b.packet[0], 0x45);
    KEXPECT_EQ(internet_checksum(Span<const uint8_t>(at_b.packet, 20)), 0);
    // No binding: counted, nothing sent back.
    KMUST(pair->a->udp_send(ip_b, 7001, 7999, Span<const uint8_t>(payload)));
    KEXPECT(wait_until([&] { return pair->b->counters().dropped(DropReason::UdpNoPort) == 1; }));
}

void send_ipv4_packet_as_roce_does()
{
    auto pair = make_pair();
    KSKIP_IF(!pair, "no memory for the cable");
    UdpLog at_b;
    KMUST(pair->b->bind_udp(4791, record_udp, &at_b));
    // IPv4 + UDP 4791 (checksum 0, as rxe sends it) + 12 opaque bytes.
    uint8_t packet[20 + 8 + 12] {};
    Span<uint8_t> p(packet);
    p[0] = 0x45;
    store_be16(p, 2, sizeof(packet));
    store_be16(p, 4, 0x4242);
    store_be16(p, 6, 0x4000);
    p[8] = 64;
    p[9] = 17;
    store_ipv4(p, 12, ip_a);
    store_ipv4(p, 16, ip_b);
    store_be16(p, 10, internet_checksum(p.first(20)));
    store_be16(p, 20, 49152);
    store_be16(p, 22, 4791);
    store_be16(p, 24, 8 + 12);
    for (size_t i = 28; i < sizeof(packet); ++i)
        p[i] = static_cast<uint8_t>(0xa0 + i);
    KMUST(pair->a->send_ipv4_packet(Span<const uint8_t>(packet)));
    KEXPECT(wait_until([&] { return at_b.count.load() == 1; }));
    KEXPECT_EQ(at_b.packet_size, sizeof(packet));
    KEXPECT(memcmp(at_b.packet, packet, sizeof(packet)) == 0);
    // A header the caller got wrong is refused, not sent.
    p[10] ^= 0x01;
    auto refused = pair->a->send_ipv4_packet(Span<const uint8_t>(packet));
    KEXPECT(refused.is_error() && refused.error().code() == Errno::INVAL);
}

void corrupted_frames_are_dropped()
{
    // The planted fault: the cable damages the IPv4 header checksum, then
    // a UDP payload byte. Nothing may reach the handler; each is counted.
    auto pair = make_pair();
    KSKIP_IF(!pair, "no memory for the cable");
    UdpLog at_b;
    KMUST(pair->b->bind_udp(7000, record_udp, &at_b));
    const uint8_t payload[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    KMUST(pair->a->udp_send(ip_b, 7001, 7000, Span<const uint8_t>(payload)));
    KEXPECT(wait_until([&] { return at_b.count.load() == 1; })); // ARP done, the path works.
    pair->device_a.corrupt_byte(14 + 10);
    KMUST(pair->a->udp_send(ip_b, 7001, 7000, Span<const uint8_t>(payload)));
    KEXPECT(wait_until([&] { return pair->b->counters().dropped(DropReason::Ipv4Malformed) == 1; }));
    pair->device_a.corrupt_byte(14 + 20 + 8 + 3);
    KMUST(pair->a->udp_send(ip_b, 7001, 7000, Span<const uint8_t>(payload)));
    KEXPECT(wait_until([&] { return pair->b->counters().dropped(DropReason::UdpMalformed) == 1; }));
    pair->device_a.corrupt_byte(~size_t(0));
    KEXPECT_EQ(at_b.count.load(), 1u);
    KEXPECT_EQ(pair->b->counters().total_drops(), 2u);
}

void unanswered_arp_drops_held_packets()
{
    auto pair = make_pair(50 * ns_per_ms);
    KSKIP_IF(!pair, "no memory for the cable");
    const uint8_t payload[] = { 9 };
    const Ipv4Address nobody { { 192, 0, 2, 250 } };
    KMUST(pair->a->udp_send(nobody, 1, 2, Span<const uint8_t>(payload)));
    KMUST(pair->a->udp_send(nobody, 1, 2, Span<const uint8_t>(payload)));
    KEXPECT(wait_until([&] { return pair->a->counters().dropped(DropReason::ArpUnresolved) == 2; }));
    KEXPECT_EQ(pair->a->counters().tx_arp_requests, 3u);
    KEXPECT_EQ(pair->a->counters().tx_ipv4, 0u);
    // B saw the requests and, not being asked, learned nothing.
    KEXPECT_EQ(pair->b->counters().dropped(DropReason::ArpNotForUs), 3u);
}

} // namespace

SELFTEST_SUITE(net_stack, CONFIG_NET_STACK_SELFTEST, SELFTEST_CASE(arp_resolution_and_ping),
    SELFTEST_CASE(udp_round_trip_from_handler), SELFTEST_CASE(send_ipv4_packet_as_roce_does),
    SELFTEST_CASE(corrupted_frames_are_dropped), SELFTEST_CASE(unanswered_arp_drops_held_packets));

} // namespace tessera
