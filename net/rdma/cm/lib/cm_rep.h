#pragma once
// The REP (attribute 0x0013, IBTA table 110; docs/wire/rdma-cm.md 4.2).

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>
#include <net/rdma/cm/lib/cm_drop.h>

namespace tessera::rdma::cm {

constexpr size_t rep_private_data_size = 196;

struct CmRep {
    uint32_t local_comm_id { 0 };
    uint32_t remote_comm_id { 0 };
    uint32_t local_qkey { 0 };
    uint32_t local_qpn { 0 }; // 24 bits
    uint32_t local_eecn { 0 }; // 24 bits
    uint32_t starting_psn { 0 }; // 24 bits
    uint32_t vendor_id { 0 }; // 24 bits, split over three bytes on the wire
    uint8_t responder_resources { 0 };
    uint8_t initiator_depth { 0 };
    uint8_t target_ack_delay { 0 }; // 5 bits
    uint8_t failover_accepted { 0 }; // 2 bits
    bool end_to_end_flow_control { false };
    uint8_t rnr_retry_count { 0 }; // 3 bits
    bool srq { false };
    uint64_t local_ca_guid { 0 };
    uint8_t private_data[rep_private_data_size] {};
};

// BadField for a zero Local or Remote Comm ID (a REP always names both).
[[nodiscard]] CmDrop decode_rep(Span<const uint8_t> mad, CmRep& out);
ErrorOr<void> encode_rep(const CmRep& rep, uint64_t transaction_id, Span<uint8_t> mad);

} // namespace tessera::rdma::cm
