#pragma once
// Ipv4Interface: one Ethernet interface's IPv4 stack (ARP, IPv4, ICMP echo,
// UDP), event-driven and with the time passed in, so that it runs the same
// on the host (test/host/inet_interface_test.cpp, two interfaces on a fake
// wire) and in the kernel (net/inet/net_interface.h wraps it in one lock and
// feeds it a NetDevice's frames and a periodic poll).
//
// - ARP: answers requests for our address; learns the sender of any request
//   or reply addressed to us, refreshes cached senders of others (RFC 826);
//   resolves a destination with up to `arp_max_requests` requests
//   `arp_retry_interval_ns` apart, holding its packets meanwhile (bounded per
//   destination by the ArpCache policy and in total by the slot pool), then
//   drops them as ArpUnresolved. Mappings expire after `arp_entry_lifetime_ns`.
// - IPv4: every received header is validated (decode_ipv4); only packets to
//   our address (UDP also to broadcast) are accepted. Sent packets have DF
//   set and must fit the MTU: nothing is ever fragmented. One subnet, no
//   gateway: an off-subnet destination is ENETUNREACH.
// - ICMP: echo requests are answered with the same identifier, sequence and
//   data; echo replies are counted (send_echo_request() pings).
// - UDP: datagrams to a bound port come back from receive_frame() as a
//   UdpDelivery for the caller to invoke; an unbound port is counted.
//
// Not thread-safe; no clock, no allocation after try_create().

#include <kernel/lib/error_or.h>
#include <kernel/lib/optional.h>
#include <kernel/lib/own_ptr.h>
#include <kernel/lib/span.h>
#include <kernel/lib/vector.h>
#include <net/inet/lib/addresses.h>
#include <net/inet/lib/arp.h>
#include <net/inet/lib/arp_cache.h>
#include <net/inet/lib/interface_counters.h>
#include <net/inet/lib/udp_binding.h>

namespace tessera {

struct Ipv4InterfaceConfig {
    MacAddress mac;
    Ipv4Address ip {};
    uint8_t prefix_length { 24 };
    uint32_t mtu { 1500 }; // Largest Ethernet payload (68..65535).
    uint64_t arp_retry_interval_ns { 1'000'000'000 };
    uint32_t arp_max_requests { 3 }; // Requests sent before giving up (1..).
    uint64_t arp_entry_lifetime_ns { 60'000'000'000 };
    uint32_t arp_max_pending_per_address { 8 };
    uint32_t pending_slots { 16 }; // Packets held while ARP resolves, all destinations (1..64).
};

class Ipv4Interface {
public:
    // Copies the frame before returning (NetDevice::transmit's contract).
    using TransmitFunction = ErrorOr<void> (*)(void* context, Span<const uint8_t> frame);

    static constexpr size_t arp_cache_capacity = 32;
    static constexpr size_t max_pending_slots = 64;
    static constexpr size_t max_udp_bindings = 16;

    // EINVAL for an MTU outside 68..65535, a prefix above 30, zero requests
    // or slots; ENOMEM if the buffers cannot be allocated.
    static ErrorOr<OwnPtr<Ipv4Interface>> try_create(
        const Ipv4InterfaceConfig& config, TransmitFunction transmit, void* transmit_context);

    // One received Ethernet frame (no FCS). Never fails: a bad frame is
    // counted and dropped. A datagram for a bound UDP port is returned, to
    // be invoked once the caller's lock is dropped; it points into `frame`.
    Optional<UdpDelivery> receive_frame(Span<const uint8_t> frame, uint64_t now_ns);

    // ARP retries and give-ups, cache expiry.
    void poll(uint64_t now_ns);
    // When poll() next has work (an ARP retry or give-up); ~0 when none.
    uint64_t next_deadline_ns() const;

    // `ip_packet` is a whole IPv4 packet built by the caller (header with its
    // checksum, payload); its total length must equal the span and its source
    // must be our address. Resolves the next hop, prepends Ethernet and
    // transmits, or holds it while ARP resolves. EINVAL (bad header, our own
    // address as destination), EADDRNOTAVAIL (another source), EMSGSIZE
    // (over the MTU), ENETUNREACH (off our subnet), ENOBUFS (no room to hold
    // it; counted as ArpQueueFull), or the device's error.
    ErrorOr<void> send_ipv4_packet(Span<const uint8_t> ip_packet, uint64_t now_ns);

    // Builds IPv4 (DF, TTL 64) + UDP (with its checksum) around `payload`.
    ErrorOr<void> udp_send(Ipv4Address destination, uint16_t source_port, uint16_t destination_port,
        Span<const uint8_t> payload, uint64_t now_ns);

    // An ICMP echo request (ping); replies are counted in rx_icmp_echo_replies.
    ErrorOr<void> send_echo_request(
        Ipv4Address destination, uint16_t identifier, uint16_t sequence, Span<const uint8_t> data, uint64_t now_ns);

    // EINVAL for port 0, EADDRINUSE if bound, ENOSPC when the table is full.
    ErrorOr<void> bind_udp(uint16_t port, UdpHandler handler, void* context);
    void unbind_udp(uint16_t port);

    const InterfaceCounters& counters() const { return m_counters; }
    const Ipv4InterfaceConfig& config() const { return m_config; }
    // The last echo reply received, for ping's caller.
    uint16_t last_echo_reply_identifier() const { return m_last_echo_reply_identifier; }
    uint16_t last_echo_reply_sequence() const { return m_last_echo_reply_sequence; }
    // Cached (resolved, unexpired) MAC for `ip`.
    Optional<MacAddress> arp_lookup(Ipv4Address ip, uint64_t now_ns) { return m_arp_cache.lookup(ip, now_ns); }
    size_t pending_packet_count() const;

    // Use try_create(); public for try_make_own.
    Ipv4Interface(const Ipv4InterfaceConfig& config, TransmitFunction transmit, void* transmit_context,
        Vector<uint8_t> scratch, Vector<uint8_t> slot_storage);

private:
    struct PendingSlot {
        bool used { false };
        Ipv4Address next_hop {};
        uint64_t order { 0 }; // Send order among the held packets.
        size_t length { 0 }; // Of the frame, Ethernet header included.
    };
    struct Resolution {
        bool active { false };
        Ipv4Address ip {};
        uint32_t requests_sent { 0 };
        uint64_t next_action_ns { 0 }; // The next retry, or the give-up.
    };
    struct UdpBinding {
        uint16_t port { 0 }; // 0: free.
        UdpHandler handler { nullptr };
        void* context { nullptr };
    };

    Span<uint8_t> slot_buffer(size_t index);
    Span<uint8_t> scratch() { return m_scratch.span(); }
    bool on_subnet(Ipv4Address ip) const;
    bool is_broadcast(Ipv4Address ip) const;
    bool is_bad_source(Ipv4Address ip) const;

    // The frame in scratch() (header room included) holds an IPv4 packet.
    ErrorOr<void> route_frame(size_t frame_length, Ipv4Address destination, uint64_t now_ns);
    ErrorOr<void> hold_for_resolution(size_t frame_length, Ipv4Address next_hop, uint64_t now_ns);
    ErrorOr<void> transmit(Span<uint8_t> frame, MacAddress destination);
    void send_arp(ArpOperation operation, MacAddress destination_mac, MacAddress target_mac, Ipv4Address target_ip);
    void release_held(Ipv4Address ip, MacAddress mac);
    void drop_held(Ipv4Address ip);
    Resolution* find_resolution(Ipv4Address ip);
    size_t build_ipv4_header(uint8_t protocol, Ipv4Address destination, size_t payload_size, Span<uint8_t> out);

    void receive_arp(Span<const uint8_t> packet, uint64_t now_ns);
    Optional<UdpDelivery> receive_ipv4(Span<const uint8_t> packet, MacAddress source_mac);
    void receive_icmp(Span<const uint8_t> ip_packet, size_t header_size, bool to_broadcast, MacAddress source_mac);
    Optional<UdpDelivery> receive_udp(
        Span<const uint8_t> ip_packet, size_t header_size, Ipv4Address source, Ipv4Address destination);

    Ipv4InterfaceConfig m_config;
    TransmitFunction m_transmit;
    void* m_transmit_context;
    ArpCache<arp_cache_capacity> m_arp_cache;
    InterfaceCounters m_counters;
    Vector<uint8_t> m_scratch; // One frame being built.
    Vector<uint8_t> m_slot_storage; // pending_slots frames of MTU + 14 bytes.
    PendingSlot m_slots[max_pending_slots];
    Resolution m_resolutions[max_pending_slots];
    UdpBinding m_udp_bindings[max_udp_bindings];
    uint64_t m_next_order { 0 };
    uint16_t m_next_identification { 1 };
    uint16_t m_last_echo_reply_identifier { 0 };
    uint16_t m_last_echo_reply_sequence { 0 };
};

} // namespace tessera
