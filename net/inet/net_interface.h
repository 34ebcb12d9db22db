#pragma once
// NetInterface: the kernel's IPv4 interface on one NetDevice. It wraps the
// portable Ipv4Interface (net/inet/lib/ipv4_interface.h) in one spinlock of
// rank NetStack, feeds it the device's received frames and the uptime, and
// polls it from delayed work (ARP retries and expiry) in thread context.
//
// Locking: frames are transmitted under the NetStack lock (the driver's own
// lock ranks NetDevice, inside it). UDP handlers run with the lock dropped,
// in the device's receive thread, so a handler may send on this interface
// and may hold locks ranked outside NetStack (Rdma, RdmaCm, Rpc) while it
// does. Callers of send_ipv4_packet()/udp_send() may hold those too.

#include <kernel/lib/error_or.h>
#include <kernel/lib/own_ptr.h>
#include <kernel/locking/spinlock.h>
#include <kernel/sched/delayed_work.h>
#include <net/device/net_device.h>
#include <net/inet/lib/ipv4_interface.h>

namespace tessera {

class NetInterface {
public:
    // The stack's defaults for `device` (its MAC and MTU; 1 s ARP retries,
    // three requests, 60 s cache lifetime, 16 held packets).
    static Ipv4InterfaceConfig default_config(NetDevice& device, Ipv4Address ip, uint8_t prefix_length);

    // Takes over `device`'s receive handler and starts polling.
    static ErrorOr<OwnPtr<NetInterface>> try_create(NetDevice& device, const Ipv4InterfaceConfig& config);
    // Releases the device's receive handler and stops polling. The device
    // must deliver no frame concurrently (stop it first).
    ~NetInterface();
    NetInterface(const NetInterface&) = delete;
    NetInterface& operator=(const NetInterface&) = delete;

    // The whole IPv4 packet, built by the caller (the RoCE engine): ARP
    // resolves the destination, Ethernet is prepended. See
    // Ipv4Interface::send_ipv4_packet() for the errors.
    ErrorOr<void> send_ipv4_packet(Span<const uint8_t> ip_packet);
    // `handler` receives the whole validated IPv4 packet and the decoded
    // fields; it must stay callable (and `context` alive) until
    // unbind_udp() has returned and the device's receive thread has moved on.
    ErrorOr<void> bind_udp(uint16_t port, UdpHandler handler, void* context);
    void unbind_udp(uint16_t port);
    ErrorOr<void> udp_send(
        Ipv4Address destination, uint16_t source_port, uint16_t destination_port, Span<const uint8_t> payload);
    ErrorOr<void> send_echo_request(
        Ipv4Address destination, uint16_t identifier, uint16_t sequence, Span<const uint8_t> data);

    InterfaceCounters counters();
    uint16_t last_echo_reply_sequence();
    Optional<MacAddress> arp_lookup(Ipv4Address ip);

    const Ipv4InterfaceConfig& config() const { return m_config; }
    NetDevice& device() { return m_device; }

    // The shell's `net`: address, MAC, MTU, counters, non-zero drops.
    void print_status();

    NetInterface(NetDevice& device, const Ipv4InterfaceConfig& config, OwnPtr<Ipv4Interface> interface);

private:
    static constexpr uint64_t poll_period_ns = 50'000'000;

    static void on_frame(void* context, Span<const uint8_t> frame);
    static ErrorOr<void> transmit_frame(void* context, Span<const uint8_t> frame);
    static void on_poll(void* context);

    NetDevice& m_device;
    const Ipv4InterfaceConfig m_config; // A copy, readable without the lock.
    SpinlockProtected<OwnPtr<Ipv4Interface>, LockRank::NetStack> m_interface;
    DelayedWork m_poll;
    kstd::atomic<bool> m_stopping { false };
};

} // namespace tessera
