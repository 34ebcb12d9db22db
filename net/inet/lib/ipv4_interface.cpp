#include <kernel/lib/string.h>
#include <net/inet/lib/arp.h>
#include <net/inet/lib/byte_order.h>
#include <net/inet/lib/ethernet.h>
#include <net/inet/lib/icmp.h>
#include <net/inet/lib/internet_checksum.h>
#include <net/inet/lib/ipv4.h>
#include <net/inet/lib/ipv4_interface.h>
#include <net/inet/lib/udp.h>

namespace tessera {

namespace {

// Ethernet's minimum frame without the FCS: shorter frames are zero-padded,
// as a NIC that does not pad by itself would otherwise send runts.
constexpr size_t minimum_frame_size = 60;
constexpr uint8_t default_ttl = 64;

uint32_t to_host(Ipv4Address ip)
{
    return static_cast<uint32_t>(ip.octets[0]) << 24 | static_cast<uint32_t>(ip.octets[1]) << 16
        | static_cast<uint32_t>(ip.octets[2]) << 8 | ip.octets[3];
}

uint32_t prefix_mask(uint8_t prefix_length) { return prefix_length == 0 ? 0 : ~0u << (32 - prefix_length); }

bool is_group_mac(MacAddress mac) { return (mac.octets[0] & 1) != 0; }

ArpCachePolicy arp_policy(const Ipv4InterfaceConfig& config)
{
    // The cache's own pending lifetime outlasts our last retry, so that the
    // give-up is always ours (and the held packets are dropped with it).
    return { config.arp_entry_lifetime_ns, config.arp_retry_interval_ns * (config.arp_max_requests + 1ull),
        config.arp_max_pending_per_address };
}

} // namespace

Ipv4Interface::Ipv4Interface(const Ipv4InterfaceConfig& config, TransmitFunction transmit, void* transmit_context,
    Vector<uint8_t> scratch, Vector<uint8_t> slot_storage)
    : m_config(config)
    , m_transmit(transmit)
    , m_transmit_context(transmit_context)
    , m_arp_cache(arp_policy(config))
    , m_scratch(kstd::move(scratch))
    , m_slot_storage(kstd::move(slot_storage))
{
}

ErrorOr<OwnPtr<Ipv4Interface>> Ipv4Interface::try_create(
    const Ipv4InterfaceConfig& config, TransmitFunction transmit, void* transmit_context)
{
    if (config.mtu < 68 || config.mtu > 65535)
        return Error(Errno::INVAL, "inet: MTU outside 68..65535");
    if (config.prefix_length > 30)
        return Error(Errno::INVAL, "inet: prefix longer than /30 leaves no peer");
    if (config.arp_max_requests == 0 || config.pending_slots == 0 || config.pending_slots > max_pending_slots)
        return Error(Errno::INVAL, "inet: ARP needs at least one request and 1..64 pending slots");
    if (transmit == nullptr)
        return Error(Errno::INVAL, "inet: no transmit function");
    size_t frame_size = config.mtu + ethernet_header_size;
    Vector<uint8_t> scratch;
    Vector<uint8_t> slot_storage;
    TRY(scratch.try_resize(frame_size));
    TRY(slot_storage.try_resize(frame_size * config.pending_slots));
    return try_make_own<Ipv4Interface>(
        config, transmit, transmit_context, kstd::move(scratch), kstd::move(slot_storage));
}

Span<uint8_t> Ipv4Interface::slot_buffer(size_t index)
{
    size_t frame_size = m_config.mtu + ethernet_header_size;
    return m_slot_storage.span().slice(index * frame_size, frame_size);
}

bool Ipv4Interface::on_subnet(Ipv4Address ip) const
{
    uint32_t mask = prefix_mask(m_config.prefix_length);
    return (to_host(ip) & mask) == (to_host(m_config.ip) & mask);
}

bool Ipv4Interface::is_broadcast(Ipv4Address ip) const
{
    uint32_t mask = prefix_mask(m_config.prefix_length);
    uint32_t host = to_host(ip);
    return host == 0xffffffff || (on_subnet(ip) && (host | mask) == 0xffffffff);
}

bool Ipv4Interface::is_bad_source(Ipv4Address ip) const
{
    uint32_t host = to_host(ip);
    uint8_t first = ip.octets[0];
    return host == 0 || first == 127 || first >= 224 || is_broadcast(ip) || ip == m_config.ip;
}

size_t Ipv4Interface::pending_packet_count() const
{
    size_t count = 0;
    for (size_t i = 0; i < m_config.pending_slots; ++i)
        count += m_slots[i].used;
    return count;
}

uint64_t Ipv4Interface::next_deadline_ns() const
{
    uint64_t deadline = ~0ull;
    for (const Resolution& resolution : m_resolutions) {
        if (resolution.active && resolution.next_action_ns < deadline)
            deadline = resolution.next_action_ns;
    }
    return deadline;
}

// --- Transmit ----------------------------------------------------------------

ErrorOr<void> Ipv4Interface::transmit(Span<uint8_t> frame, MacAddress destination)
{
    EthernetHeader header { destination, m_config.mac, load_be16(frame, 12) };
    MUST(encode_ethernet(header, frame));
    size_t length = frame.size();
    if (length < minimum_frame_size) {
        // Every buffer here holds at least MTU + 14 >= 82 bytes.
        Span<uint8_t> padded(frame.data(), minimum_frame_size);
        memset(padded.data() + length, 0, minimum_frame_size - length);
        frame = padded;
    }
    auto result = m_transmit(m_transmit_context, frame);
    if (result.is_error()) {
        m_counters.count_drop(DropReason::TransmitFailed);
        return result;
    }
    ++m_counters.tx_frames;
    m_counters.tx_bytes += frame.size();
    if (header.ether_type == static_cast<uint16_t>(EtherType::Ipv4))
        ++m_counters.tx_ipv4;
    return {};
}

void Ipv4Interface::send_arp(
    ArpOperation operation, MacAddress destination_mac, MacAddress target_mac, Ipv4Address target_ip)
{
    ArpPacket packet { operation, m_config.mac, m_config.ip, target_mac, target_ip };
    Span<uint8_t> frame = scratch().first(ethernet_header_size + arp_packet_size);
    store_be16(frame, 12, static_cast<uint16_t>(EtherType::Arp));
    MUST(encode_arp(packet, frame.slice(ethernet_header_size)));
    if (transmit(frame, destination_mac).is_error())
        return; // Counted; a request is retried by poll(), a reply by the asker.
    if (operation == ArpOperation::Request)
        ++m_counters.tx_arp_requests;
    else
        ++m_counters.tx_arp_replies;
}

size_t Ipv4Interface::build_ipv4_header(
    uint8_t protocol, Ipv4Address destination, size_t payload_size, Span<uint8_t> out)
{
    Ipv4Header header;
    header.identification = m_next_identification++;
    header.dont_fragment = true;
    header.ttl = default_ttl;
    header.protocol = protocol;
    header.source = m_config.ip;
    header.destination = destination;
    return MUST(encode_ipv4(header, payload_size, out));
}

ErrorOr<void> Ipv4Interface::route_frame(size_t frame_length, Ipv4Address destination, uint64_t now_ns)
{
    Span<uint8_t> frame = scratch().first(frame_length);
    store_be16(frame, 12, static_cast<uint16_t>(EtherType::Ipv4));
    if (destination == m_config.ip)
        return Error(Errno::INVAL, "inet: destination is our own address (no loopback)");
    if (is_broadcast(destination))
        return transmit(frame, MacAddress::broadcast());
    if (!on_subnet(destination))
        return Error(Errno::NETUNREACH, "inet: destination off our subnet (no gateway)");
    auto mac = m_arp_cache.lookup(destination, now_ns);
    if (mac.has_value())
        return transmit(frame, mac.value());
    return hold_for_resolution(frame_length, destination, now_ns);
}

Ipv4Interface::Resolution* Ipv4Interface::find_resolution(Ipv4Address ip)
{
    for (Resolution& resolution : m_resolutions) {
        if (resolution.active && resolution.ip == ip)
            return &resolution;
    }
    return nullptr;
}

ErrorOr<void> Ipv4Interface::hold_for_resolution(size_t frame_length, Ipv4Address next_hop, uint64_t now_ns)
{
    size_t slot = m_config.pending_slots;
    for (size_t i = 0; i < m_config.pending_slots; ++i) {
        if (!m_slots[i].used) {
            slot = i;
            break;
        }
    }
    if (slot == m_config.pending_slots || m_arp_cache.queue_for_resolution(next_hop, now_ns).is_error()) {
        m_counters.count_drop(DropReason::ArpQueueFull);
        return Error(Errno::NOBUFS, "inet: too many packets waiting for ARP");
    }
    memcpy(slot_buffer(slot).data(), scratch().data(), frame_length);
    m_slots[slot] = { true, next_hop, m_next_order++, frame_length };

    if (find_resolution(next_hop) != nullptr)
        return {};
    // There are as many records as slots and each active one holds a slot,
    // so a free record exists.
    for (Resolution& resolution : m_resolutions) {
        if (!resolution.active) {
            resolution = { true, next_hop, 1, now_ns + m_config.arp_retry_interval_ns };
            break;
        }
    }
    send_arp(ArpOperation::Request, MacAddress::broadcast(), MacAddress {}, next_hop);
    return {};
}

void Ipv4Interface::release_held(Ipv4Address ip, MacAddress mac)
{
    if (Resolution* resolution = find_resolution(ip))
        resolution->active = false;
    for (;;) {
        // The oldest held packet for `ip`: they leave in the order they came.
        PendingSlot* oldest = nullptr;
        size_t index = 0;
        for (size_t i = 0; i < m_config.pending_slots; ++i) {
            PendingSlot& slot = m_slots[i];
            if (slot.used && slot.next_hop == ip && (oldest == nullptr || slot.order < oldest->order)) {
                oldest = &slot;
                index = i;
            }
        }
        if (oldest == nullptr)
            return;
        oldest->used = false;
        (void)transmit(slot_buffer(index).first(oldest->length), mac); // Counted on failure.
    }
}

void Ipv4Interface::drop_held(Ipv4Address ip)
{
    if (Resolution* resolution = find_resolution(ip))
        resolution->active = false;
    for (size_t i = 0; i < m_config.pending_slots; ++i) {
        if (m_slots[i].used && m_slots[i].next_hop == ip) {
            m_slots[i].used = false;
            m_counters.count_drop(DropReason::ArpUnresolved);
        }
    }
    m_arp_cache.remove(ip);
}

void Ipv4Interface::poll(uint64_t now_ns)
{
    for (Resolution& resolution : m_resolutions) {
        if (!resolution.active || now_ns < resolution.next_action_ns)
            continue;
        if (resolution.requests_sent >= m_config.arp_max_requests) {
            drop_held(resolution.ip);
            continue;
        }
        ++resolution.requests_sent;
        resolution.next_action_ns = now_ns + m_config.arp_retry_interval_ns;
        send_arp(ArpOperation::Request, MacAddress::broadcast(), MacAddress {}, resolution.ip);
    }
    m_arp_cache.expire(now_ns);
}

ErrorOr<void> Ipv4Interface::send_ipv4_packet(Span<const uint8_t> ip_packet, uint64_t now_ns)
{
    if (ip_packet.size() > m_config.mtu)
        return Error(Errno::MSGSIZE, "inet: packet exceeds the MTU (never fragmented)");
    auto datagram = TRY(decode_ipv4(ip_packet));
    if (datagram.header_size + datagram.payload.size() != ip_packet.size())
        return Error(Errno::INVAL, "inet: IPv4 total length differs from the packet");
    if (!datagram.header.dont_fragment)
        return Error(Errno::INVAL, "inet: IPv4 packet without DF");
    if (datagram.header.source != m_config.ip)
        return Error(Errno::ADDRNOTAVAIL, "inet: IPv4 source is not our address");
    memcpy(scratch().data() + ethernet_header_size, ip_packet.data(), ip_packet.size());
    return route_frame(ethernet_header_size + ip_packet.size(), datagram.header.destination, now_ns);
}

ErrorOr<void> Ipv4Interface::udp_send(Ipv4Address destination, uint16_t source_port, uint16_t destination_port,
    Span<const uint8_t> payload, uint64_t now_ns)
{
    size_t udp_length = udp_header_size + payload.size();
    if (ipv4_minimum_header_size + udp_length > m_config.mtu)
        return Error(Errno::MSGSIZE, "inet: UDP datagram exceeds the MTU (never fragmented)");
    Span<uint8_t> packet = scratch().slice(ethernet_header_size, ipv4_minimum_header_size + udp_length);
    build_ipv4_header(static_cast<uint8_t>(IpProtocol::Udp), destination, udp_length, packet);
    Span<uint8_t> datagram = packet.slice(ipv4_minimum_header_size);
    if (!payload.is_empty())
        memcpy(datagram.data() + udp_header_size, payload.data(), payload.size());
    MUST(encode_udp(m_config.ip, destination, source_port, destination_port, datagram));
    TRY(route_frame(ethernet_header_size + packet.size(), destination, now_ns));
    ++m_counters.tx_udp;
    return {};
}

ErrorOr<void> Ipv4Interface::send_echo_request(
    Ipv4Address destination, uint16_t identifier, uint16_t sequence, Span<const uint8_t> data, uint64_t now_ns)
{
    size_t icmp_length = icmp_echo_header_size + data.size();
    if (ipv4_minimum_header_size + icmp_length > m_config.mtu)
        return Error(Errno::MSGSIZE, "inet: echo request exceeds the MTU");
    Span<uint8_t> packet = scratch().slice(ethernet_header_size, ipv4_minimum_header_size + icmp_length);
    build_ipv4_header(static_cast<uint8_t>(IpProtocol::Icmp), destination, icmp_length, packet);
    Span<uint8_t> icmp = packet.slice(ipv4_minimum_header_size);
    icmp[0] = icmp_type_echo_request;
    icmp[1] = 0;
    store_be16(icmp, 2, 0);
    store_be16(icmp, 4, identifier);
    store_be16(icmp, 6, sequence);
    if (!data.is_empty())
        memcpy(icmp.data() + icmp_echo_header_size, data.data(), data.size());
    store_be16(icmp, 2, internet_checksum(icmp));
    TRY(route_frame(ethernet_header_size + packet.size(), destination, now_ns));
    ++m_counters.tx_icmp_echo_requests;
    return {};
}

ErrorOr<void> Ipv4Interface::bind_udp(uint16_t port, UdpHandler handler, void* context)
{
    if (port == 0 || handler == nullptr)
        return Error(Errno::INVAL, "inet: UDP port 0 or no handler");
    UdpBinding* free_binding = nullptr;
    for (UdpBinding& binding : m_udp_bindings) {
        if (binding.port == port)
            return Error(Errno::ADDRINUSE, "inet: UDP port already bound");
        if (binding.port == 0 && free_binding == nullptr)
            free_binding = &binding;
    }
    if (free_binding == nullptr)
        return Error(Errno::NOSPC, "inet: UDP binding table full");
    *free_binding = { port, handler, context };
    return {};
}

void Ipv4Interface::unbind_udp(uint16_t port)
{
    for (UdpBinding& binding : m_udp_bindings) {
        if (binding.port == port)
            binding = {};
    }
}

// --- Receive -----------------------------------------------------------------

Optional<UdpDelivery> Ipv4Interface::receive_frame(Span<const uint8_t> frame, uint64_t now_ns)
{
    ++m_counters.rx_frames;
    m_counters.rx_bytes += frame.size();
    if (frame.size() > m_config.mtu + ethernet_header_size) {
        m_counters.count_drop(DropReason::FrameTooLong);
        return {};
    }
    auto decoded = decode_ethernet(frame);
    if (decoded.is_error() || is_group_mac(decoded.value().header.source)) {
        m_counters.count_drop(DropReason::EthernetMalformed);
        return {};
    }
    const EthernetFrame& ethernet = decoded.value();
    if (ethernet.header.destination != m_config.mac && ethernet.header.destination != MacAddress::broadcast()) {
        m_counters.count_drop(DropReason::NotOurMac);
        return {};
    }
    switch (ethernet.header.ether_type) {
    case static_cast<uint16_t>(EtherType::Arp):
        receive_arp(ethernet.payload, now_ns);
        return {};
    case static_cast<uint16_t>(EtherType::Ipv4):
        return receive_ipv4(ethernet.payload, ethernet.header.source);
    default:
        m_counters.count_drop(DropReason::UnknownEtherType);
        return {};
    }
}

void Ipv4Interface::receive_arp(Span<const uint8_t> packet, uint64_t now_ns)
{
    auto decoded = decode_arp(packet);
    if (decoded.is_error() || is_group_mac(decoded.value().sender_mac)) {
        m_counters.count_drop(DropReason::ArpMalformed);
        return;
    }
    const ArpPacket& arp = decoded.value();
    bool is_request = arp.operation == ArpOperation::Request;
    if (is_request)
        ++m_counters.rx_arp_requests;
    else
        ++m_counters.rx_arp_replies;
    if (arp.sender_ip == m_config.ip) {
        m_counters.count_drop(DropReason::ArpAddressConflict);
        return;
    }
    bool probe = to_host(arp.sender_ip) == 0; // RFC 5227: answered, not learned.
    if (!probe && (!on_subnet(arp.sender_ip) || is_broadcast(arp.sender_ip))) {
        m_counters.count_drop(DropReason::ArpMalformed);
        return;
    }
    if (arp.target_ip != m_config.ip) {
        // RFC 826's merge: update a sender we already know, learn nobody new.
        if (probe || !m_arp_cache.refresh(arp.sender_ip, arp.sender_mac, now_ns).has_value()) {
            m_counters.count_drop(DropReason::ArpNotForUs);
            return;
        }
        release_held(arp.sender_ip, arp.sender_mac);
        return;
    }
    if (!probe) {
        m_arp_cache.insert(arp.sender_ip, arp.sender_mac, now_ns);
        release_held(arp.sender_ip, arp.sender_mac);
    }
    if (is_request) {
        ArpPacket reply = make_arp_reply(arp, m_config.mac);
        send_arp(ArpOperation::Reply, arp.sender_mac, reply.target_mac, reply.target_ip);
    }
}

Optional<UdpDelivery> Ipv4Interface::receive_ipv4(Span<const uint8_t> packet, MacAddress source_mac)
{
    auto decoded = decode_ipv4(packet);
    if (decoded.is_error()) {
        m_counters.count_drop(DropReason::Ipv4Malformed);
        return {};
    }
    const Ipv4Datagram& datagram = decoded.value();
    if (is_bad_source(datagram.header.source)) {
        m_counters.count_drop(DropReason::Ipv4BadSource);
        return {};
    }
    bool to_broadcast = datagram.header.destination != m_config.ip;
    if (to_broadcast && !is_broadcast(datagram.header.destination)) {
        m_counters.count_drop(DropReason::Ipv4NotForUs);
        return {};
    }
    ++m_counters.rx_ipv4;
    Span<const uint8_t> ip_packet = packet.first(datagram.header_size + datagram.payload.size());
    switch (datagram.header.protocol) {
    case static_cast<uint8_t>(IpProtocol::Icmp):
        receive_icmp(ip_packet, datagram.header_size, to_broadcast, source_mac);
        return {};
    case static_cast<uint8_t>(IpProtocol::Udp):
        return receive_udp(ip_packet, datagram.header_size, datagram.header.source, datagram.header.destination);
    default:
        m_counters.count_drop(DropReason::Ipv4UnknownProtocol);
        return {};
    }
}

void Ipv4Interface::receive_icmp(
    Span<const uint8_t> ip_packet, size_t header_size, bool to_broadcast, MacAddress source_mac)
{
    Span<const uint8_t> message = ip_packet.slice(header_size);
    auto decoded = decode_icmp_echo(message);
    if (decoded.is_error()) {
        m_counters.count_drop(
            decoded.error().code() == Errno::NOSYS ? DropReason::IcmpUnsupported : DropReason::IcmpMalformed);
        return;
    }
    if (decoded.value().type == icmp_type_echo_reply) {
        ++m_counters.rx_icmp_echo_replies;
        m_last_echo_reply_identifier = decoded.value().identifier;
        m_last_echo_reply_sequence = decoded.value().sequence;
        return;
    }
    if (to_broadcast) {
        m_counters.count_drop(DropReason::IcmpBroadcast);
        return;
    }
    ++m_counters.rx_icmp_echo_requests;
    // The reply goes back to the Ethernet address the request came from: the
    // asker just proved it is there, and no ARP round trip can fail us.
    Ipv4Address source = load_ipv4(ip_packet, 12);
    size_t reply_size = ethernet_header_size + ipv4_minimum_header_size + message.size();
    Span<uint8_t> frame = scratch().first(reply_size);
    store_be16(frame, 12, static_cast<uint16_t>(EtherType::Ipv4));
    build_ipv4_header(static_cast<uint8_t>(IpProtocol::Icmp), source, message.size(),
        frame.slice(ethernet_header_size, ipv4_minimum_header_size));
    MUST(build_icmp_echo_reply(message, frame.slice(ethernet_header_size + ipv4_minimum_header_size)));
    if (transmit(frame, source_mac).is_error())
        return;
    ++m_counters.tx_icmp_echo_replies;
}

Optional<UdpDelivery> Ipv4Interface::receive_udp(
    Span<const uint8_t> ip_packet, size_t header_size, Ipv4Address source, Ipv4Address destination)
{
    auto decoded = decode_udp(ip_packet.slice(header_size), source, destination);
    if (decoded.is_error()) {
        m_counters.count_drop(DropReason::UdpMalformed);
        return {};
    }
    const UdpDatagram& udp = decoded.value();
    for (const UdpBinding& binding : m_udp_bindings) {
        if (binding.port != 0 && binding.port == udp.destination_port) {
            ++m_counters.rx_udp;
            return UdpDelivery { binding.handler, binding.context, ip_packet,
                { source, destination, udp.source_port, udp.destination_port, udp.payload } };
        }
    }
    m_counters.count_drop(DropReason::UdpNoPort);
    return {};
}

} // namespace tessera
