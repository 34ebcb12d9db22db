#pragma once
// The REQ (attribute 0x0010, IBTA table 106; docs/wire/rdma-cm.md 4.1): every
// field, as typed values. Bit-packed fields keep their wire widths; encode
// refuses values that do not fit (EINVAL) rather than truncating them.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>
#include <net/rdma/cm/lib/cm_drop.h>
#include <net/rdma/cm/lib/cm_ids.h>

namespace tessera::rdma::cm {

constexpr size_t req_private_data_size = 92;
constexpr size_t req_alternate_path_size = 44;

enum class TransportType : uint8_t { Rc = 0, Uc = 1, Reserved = 2, Xrc = 3 };

struct CmReq {
    uint32_t local_comm_id { 0 };
    uint32_t vendor_id { 0 }; // 24 bits
    uint64_t service_id { 0 };
    uint64_t local_ca_guid { 0 };
    uint32_t local_qkey { 0 };
    uint32_t local_qpn { 0 }; // 24 bits
    uint8_t responder_resources { 0 };
    uint32_t local_eecn { 0 }; // 24 bits
    uint8_t initiator_depth { 0 };
    uint32_t remote_eecn { 0 }; // 24 bits
    uint8_t remote_cm_response_timeout { 0 }; // 5 bits
    TransportType transport_type { TransportType::Rc }; // 2 bits
    bool end_to_end_flow_control { false };
    uint32_t starting_psn { 0 }; // 24 bits
    uint8_t local_cm_response_timeout { 0 }; // 5 bits
    uint8_t retry_count { 0 }; // 3 bits
    uint16_t pkey { 0xFFFF };
    uint8_t path_mtu { 0 }; // 4 bits, IB enum: 3 = 1024
    bool rdc_exists { false };
    uint8_t rnr_retry_count { 0 }; // 3 bits
    uint8_t max_cm_retries { 0 }; // 4 bits
    bool srq { false };
    uint8_t extended_transport_type { 0 }; // 3 bits
    uint16_t primary_local_lid { 0xFFFF };
    uint16_t primary_remote_lid { 0xFFFF };
    Gid primary_local_gid; // the active side's
    Gid primary_remote_gid; // the passive side's
    uint32_t primary_flow_label { 0 }; // 20 bits
    uint8_t primary_packet_rate { 0 }; // 6 bits
    uint8_t primary_traffic_class { 0 };
    uint8_t primary_hop_limit { 0 };
    uint8_t primary_sl { 0 }; // 4 bits
    bool primary_subnet_local { false };
    uint8_t primary_local_ack_timeout { 0 }; // 5 bits
    // Kept whole: RoCE has no alternate path, and the passive side only asks
    // whether one is present (alternate local LID != 0, cm_req_has_alt_path).
    uint8_t alternate_path[req_alternate_path_size] {};
    uint8_t private_data[req_private_data_size] {};

    bool has_alternate_path() const { return alternate_path[0] != 0 || alternate_path[1] != 0; }
};

// Decodes a whole 256-byte MAD whose header says REQ (decode_mad_header()
// first). BadField for a zero Local Comm ID, which the passive side could
// never answer. Everything else is the receiver's policy, as in Linux.
[[nodiscard]] CmDrop decode_req(Span<const uint8_t> mad, CmReq& out);

// Writes a whole REQ MAD (header with `transaction_id`, then the fields,
// reserved bits zero) into the first 256 bytes of `mad`. EINVAL for a field
// too wide for its bits, NOSPC when `mad` is shorter than 256 bytes.
ErrorOr<void> encode_req(const CmReq& req, uint64_t transaction_id, Span<uint8_t> mad);

} // namespace tessera::rdma::cm
