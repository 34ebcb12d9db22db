#pragma once
// What the engine counts: every received packet it drops, under the reason
// it was dropped (never silently, never a crash), and the protocol events
// that rxe exposes as hw_counters (duplicate_request, out_of_seq_request,
// rcvd_rnr_err...), so a test or an operator can see why a transfer stalled.

#include <kernel/lib/kstd.h>

namespace tessera::rdma {

enum class DropReason : uint8_t {
    None,
    IpMalformed, // not a 20-byte-header IPv4 packet, total length lies, bad checksum, fragment
    NotUdp,
    UdpMalformed, // UDP length lies, bad non-zero checksum
    WrongPort, // UDP destination is not 4791
    WrongDestination, // destination IP is not ours (rxe_chk_dgid)
    Short, // shorter than BTH + ICRC, or than the opcode's headers
    BadIcrc,
    UnknownOpcode,
    BadHeader, // TVer != 0, pad larger than the payload, data on a dataless opcode
    BadPkey,
    UnknownQpn, // QPN 0 or no such QP
    WrongTransport, // RC opcode to a UD QP or the other way round
    BadState, // QP not in RTR/RTS (or SQD)
    WrongSource, // RC: IP source is not the QP's remote address
    BadQkey, // UD: Q_Key mismatch
    NoReceiveWqe, // UD: nothing posted (UD drops, RC answers RNR)
    StaleResponse, // ACK or READ response outside the outstanding window
    BadResponse, // response that fits no outstanding request
    Count,
};
inline constexpr size_t drop_reason_count = static_cast<size_t>(DropReason::Count);
const char* drop_reason_name(DropReason reason);

struct RoceCounters {
    uint64_t sent_packets { 0 };
    uint64_t received_packets { 0 }; // accepted for processing
    uint64_t sink_failures { 0 }; // the sink refused a packet (treated as loss)
    uint64_t dropped[drop_reason_count] {};

    // Responder.
    uint64_t duplicate_request { 0 };
    uint64_t out_of_sequence_request { 0 };
    uint64_t nak_sequence_sent { 0 };
    uint64_t rnr_nak_sent { 0 };
    uint64_t nak_invalid_request_sent { 0 };
    uint64_t nak_access_sent { 0 };
    uint64_t nak_operational_sent { 0 };
    // Requester / completer.
    uint64_t retransmit_timeouts { 0 };
    uint64_t nak_sequence_received { 0 };
    uint64_t rnr_nak_received { 0 };
    uint64_t retries { 0 }; // go-back-N restarts of any cause
    uint64_t retry_exceeded { 0 };
    uint64_t rnr_retry_exceeded { 0 };

    uint64_t drops(DropReason reason) const { return dropped[static_cast<size_t>(reason)]; }
    uint64_t total_drops() const
    {
        uint64_t total = 0;
        for (size_t i = 1; i < drop_reason_count; ++i)
            total += dropped[i];
        return total;
    }
};

} // namespace tessera::rdma
