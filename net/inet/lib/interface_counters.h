#pragma once
// Per-interface counters of the IPv4 stack: what was received and sent per
// protocol, and every frame or packet dropped, by the reason it was dropped.
// Plain integers: the interface's owner (one lock in the kernel) guards them,
// and readers take a copy.

#include <kernel/lib/kstd.h>

namespace tessera {

enum class DropReason : uint8_t {
    FrameTooLong, // Longer than MTU + 14.
    EthernetMalformed, // Short, VLAN-tagged, 802.3 length, or a group source MAC.
    NotOurMac, // Unicast to another station (or multicast).
    UnknownEtherType,
    ArpMalformed, // Codec rejected it, a group sender MAC, or a sender off our subnet.
    ArpNotForUs, // A request or reply about another address (nothing cached to refresh).
    ArpAddressConflict, // Someone else claims our address.
    Ipv4Malformed, // Codec rejected it: version, IHL, length, checksum, fragment, TTL 0.
    Ipv4NotForUs, // Another destination address.
    Ipv4BadSource, // Zero, broadcast, multicast, or our own address.
    Ipv4UnknownProtocol,
    IcmpMalformed, // Short, bad checksum, non-zero echo code.
    IcmpUnsupported, // A type other than echo request/reply.
    IcmpBroadcast, // An echo request to a broadcast address (not answered, as Linux).
    UdpMalformed, // Short, length mismatch, bad checksum.
    UdpNoPort, // No binding for the destination port (no ICMP unreachable is sent).
    ArpQueueFull, // No room to hold a packet while its destination resolves.
    ArpUnresolved, // Held for a destination that never answered ARP.
    TransmitFailed, // The device refused the frame (ring full, too long).
    Count,
};

constexpr size_t drop_reason_count = static_cast<size_t>(DropReason::Count);

// "ipv4_malformed", for the shell and test messages.
const char* drop_reason_name(DropReason reason);

struct InterfaceCounters {
    uint64_t rx_frames { 0 };
    uint64_t rx_bytes { 0 };
    uint64_t rx_arp_requests { 0 };
    uint64_t rx_arp_replies { 0 };
    uint64_t rx_ipv4 { 0 }; // Valid headers addressed to us.
    uint64_t rx_icmp_echo_requests { 0 };
    uint64_t rx_icmp_echo_replies { 0 };
    uint64_t rx_udp { 0 }; // Delivered to a bound port.

    uint64_t tx_frames { 0 };
    uint64_t tx_bytes { 0 };
    uint64_t tx_arp_requests { 0 };
    uint64_t tx_arp_replies { 0 };
    uint64_t tx_ipv4 { 0 }; // IPv4 frames handed to the device (after any ARP wait).
    uint64_t tx_icmp_echo_requests { 0 };
    uint64_t tx_icmp_echo_replies { 0 };
    uint64_t tx_udp { 0 }; // udp_send() datagrams accepted.

    uint64_t drops[drop_reason_count] {};

    uint64_t dropped(DropReason reason) const { return drops[static_cast<size_t>(reason)]; }
    void count_drop(DropReason reason) { ++drops[static_cast<size_t>(reason)]; }
    uint64_t total_drops() const
    {
        uint64_t total = 0;
        for (uint64_t count : drops)
            total += count;
        return total;
    }
};

} // namespace tessera
