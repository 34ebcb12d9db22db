#include <net/inet/lib/interface_counters.h>

namespace tessera {

const char* drop_reason_name(DropReason reason)
{
    switch (reason) {
    case DropReason::FrameTooLong:
        return "frame_too_long";
    case DropReason::EthernetMalformed:
        return "ethernet_malformed";
    case DropReason::NotOurMac:
        return "not_our_mac";
    case DropReason::UnknownEtherType:
        return "unknown_ethertype";
    case DropReason::ArpMalformed:
        return "arp_malformed";
    case DropReason::ArpNotForUs:
        return "arp_not_for_us";
    case DropReason::ArpAddressConflict:
        return "arp_address_conflict";
    case DropReason::Ipv4Malformed:
        return "ipv4_malformed";
    case DropReason::Ipv4NotForUs:
        return "ipv4_not_for_us";
    case DropReason::Ipv4BadSource:
        return "ipv4_bad_source";
    case DropReason::Ipv4UnknownProtocol:
        return "ipv4_unknown_protocol";
    case DropReason::IcmpMalformed:
        return "icmp_malformed";
    case DropReason::IcmpUnsupported:
        return "icmp_unsupported";
    case DropReason::IcmpBroadcast:
        return "icmp_broadcast";
    case DropReason::UdpMalformed:
        return "udp_malformed";
    case DropReason::UdpNoPort:
        return "udp_no_port";
    case DropReason::ArpQueueFull:
        return "arp_queue_full";
    case DropReason::ArpUnresolved:
        return "arp_unresolved";
    case DropReason::TransmitFailed:
        return "transmit_failed";
    case DropReason::Count:
        break;
    }
    return "?";
}

} // namespace tessera
