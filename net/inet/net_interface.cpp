#include <kernel/console/console.h>
#include <kernel/sched/work_queue.h>
#include <kernel/time/clock.h>
#include <net/inet/net_interface.h>

namespace tessera {

Ipv4InterfaceConfig NetInterface::default_config(NetDevice& device, Ipv4Address ip, uint8_t prefix_length)
{
    Ipv4InterfaceConfig config;
    config.mac = device.mac();
    config.ip = ip;
    config.prefix_length = prefix_length;
    config.mtu = device.mtu();
    config.arp_retry_interval_ns = ns_per_second;
    config.arp_max_requests = 3;
    config.arp_entry_lifetime_ns = 60 * ns_per_second;
    config.arp_max_pending_per_address = 8;
    config.pending_slots = 16;
    return config;
}

ErrorOr<OwnPtr<NetInterface>> NetInterface::try_create(NetDevice& device, const Ipv4InterfaceConfig& config)
{
    // The device itself is the transmit context: the engine never needs us.
    auto interface = TRY(Ipv4Interface::try_create(config, transmit_frame, &device));
    auto result = TRY(try_make_own<NetInterface>(device, config, kstd::move(interface)));
    device.set_receive_handler(on_frame, result.ptr());
    result->m_poll.queue_after(WorkQueue::system(), poll_period_ns);
    return result;
}

NetInterface::NetInterface(NetDevice& device, const Ipv4InterfaceConfig& config, OwnPtr<Ipv4Interface> interface)
    : m_device(device)
    , m_config(config)
    , m_interface(kstd::move(interface))
    , m_poll(on_poll, this)
{
}

NetInterface::~NetInterface()
{
    m_device.set_receive_handler(nullptr, nullptr);
    m_stopping.store(true);
    // A poll that was running during the first cancel may have re-armed
    // itself before it saw m_stopping; the second cancel catches that one.
    m_poll.cancel_sync();
    m_poll.cancel_sync();
}

void NetInterface::on_frame(void* context, Span<const uint8_t> frame)
{
    auto& self = *static_cast<NetInterface*>(context);
    uint64_t now = uptime_ns();
    auto delivery
        = self.m_interface.with([&](OwnPtr<Ipv4Interface>& interface) { return interface->receive_frame(frame, now); });
    // Outside the lock: the handler may send, and may take outer locks.
    if (delivery.has_value())
        delivery->invoke();
}

ErrorOr<void> NetInterface::transmit_frame(void* context, Span<const uint8_t> frame)
{
    return static_cast<NetDevice*>(context)->transmit(frame);
}

void NetInterface::on_poll(void* context)
{
    auto& self = *static_cast<NetInterface*>(context);
    uint64_t now = uptime_ns();
    self.m_interface.with([&](OwnPtr<Ipv4Interface>& interface) { interface->poll(now); });
    if (!self.m_stopping.load())
        self.m_poll.queue_after(WorkQueue::system(), poll_period_ns);
}

ErrorOr<void> NetInterface::send_ipv4_packet(Span<const uint8_t> ip_packet)
{
    uint64_t now = uptime_ns();
    return m_interface.with(
        [&](OwnPtr<Ipv4Interface>& interface) { return interface->send_ipv4_packet(ip_packet, now); });
}

ErrorOr<void> NetInterface::bind_udp(uint16_t port, UdpHandler handler, void* context)
{
    return m_interface.with(
        [&](OwnPtr<Ipv4Interface>& interface) { return interface->bind_udp(port, handler, context); });
}

void NetInterface::unbind_udp(uint16_t port)
{
    m_interface.with([&](OwnPtr<Ipv4Interface>& interface) { interface->unbind_udp(port); });
}

ErrorOr<void> NetInterface::udp_send(
    Ipv4Address destination, uint16_t source_port, uint16_t destination_port, Span<const uint8_t> payload)
{
    uint64_t now = uptime_ns();
    return m_interface.with([&](OwnPtr<Ipv4Interface>& interface) {
        return interface->udp_send(destination, source_port, destination_port, payload, now);
    });
}

ErrorOr<void> NetInterface::send_echo_request(
    Ipv4Address destination, uint16_t identifier, uint16_t sequence, Span<const uint8_t> data)
{
    uint64_t now = uptime_ns();
    return m_interface.with([&](OwnPtr<Ipv4Interface>& interface) {
        return interface->send_echo_request(destination, identifier, sequence, data, now);
    });
}

InterfaceCounters NetInterface::counters()
{
    return m_interface.with([](OwnPtr<Ipv4Interface>& interface) { return interface->counters(); });
}

uint16_t NetInterface::last_echo_reply_sequence()
{
    return m_interface.with([](OwnPtr<Ipv4Interface>& interface) { return interface->last_echo_reply_sequence(); });
}

Optional<MacAddress> NetInterface::arp_lookup(Ipv4Address ip)
{
    uint64_t now = uptime_ns();
    return m_interface.with([&](OwnPtr<Ipv4Interface>& interface) { return interface->arp_lookup(ip, now); });
}

void NetInterface::print_status()
{
    InterfaceCounters c = counters();
    auto const& ip = m_config.ip.octets;
    auto const& mac = m_config.mac.octets;
    auto u = [](uint64_t value) { return static_cast<unsigned long long>(value); };
    console_print("%s: inet %u.%u.%u.%u/%u ether %02x:%02x:%02x:%02x:%02x:%02x mtu %u\n", m_device.name(), ip[0], ip[1],
        ip[2], ip[3], m_config.prefix_length, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], m_config.mtu);
    console_print("  rx: %llu frames %llu bytes; arp %llu requests %llu replies; ipv4 %llu; icmp echo %llu "
                  "requests %llu replies; udp %llu\n",
        u(c.rx_frames), u(c.rx_bytes), u(c.rx_arp_requests), u(c.rx_arp_replies), u(c.rx_ipv4),
        u(c.rx_icmp_echo_requests), u(c.rx_icmp_echo_replies), u(c.rx_udp));
    console_print("  tx: %llu frames %llu bytes; arp %llu requests %llu replies; ipv4 %llu; icmp echo %llu "
                  "requests %llu replies; udp %llu\n",
        u(c.tx_frames), u(c.tx_bytes), u(c.tx_arp_requests), u(c.tx_arp_replies), u(c.tx_ipv4),
        u(c.tx_icmp_echo_requests), u(c.tx_icmp_echo_replies), u(c.tx_udp));
    console_print("  dropped: %llu", u(c.total_drops()));
    for (size_t i = 0; i < drop_reason_count; ++i) {
        if (c.drops[i] != 0)
            console_print(" %s=%llu", drop_reason_name(static_cast<DropReason>(i)), u(c.drops[i]));
    }
    auto const& d = m_device.counters();
    console_print("\n  device: rx %llu frames %llu dropped, tx %llu frames %llu dropped\n",
        u(d.rx_frames.load(kstd::memory_order_relaxed)), u(d.rx_dropped.load(kstd::memory_order_relaxed)),
        u(d.tx_frames.load(kstd::memory_order_relaxed)), u(d.tx_dropped.load(kstd::memory_order_relaxed)));
}

} // namespace tessera
