#pragma once
// The short CM messages: RTU, REJ, MRA, DREQ and DREP (IBTA tables 107, 108,
// 111-113; docs/wire/rdma-cm.md 4.3-4.7). Each starts with the sender's and the
// receiver's comm IDs; the rest is a few packed fields and private data.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>
#include <net/rdma/cm/lib/cm_drop.h>

namespace tessera::rdma::cm {

constexpr size_t rtu_private_data_size = 224;
constexpr size_t rej_ari_size = 72;
constexpr size_t rej_private_data_size = 148;
constexpr size_t mra_private_data_size = 222;
constexpr size_t dreq_private_data_size = 220;
constexpr size_t drep_private_data_size = 224;

// Which message a REJ or MRA answers (2 bits; 3 is reserved).
enum class CmMessageKind : uint8_t { Req = 0, Rep = 1, Other = 2 };

// include/rdma/ib_cm.h enum ib_cm_rej_reason, the codes that matter (6.4).
enum class RejectReason : uint16_t {
    NoResources = 3, // we use it when a connection table is full
    Timeout = 4,
    InvalidServiceId = 8,
    StaleConnection = 10,
    InvalidGid = 12,
    InvalidAlternateGid = 18,
    ConsumerDefined = 28,
    VendorOptionNotSupported = 35,
};

struct CmRtu {
    uint32_t local_comm_id { 0 };
    uint32_t remote_comm_id { 0 };
    uint8_t private_data[rtu_private_data_size] {};
};

struct CmRej {
    uint32_t local_comm_id { 0 }; // 0 when rejecting a REQ
    uint32_t remote_comm_id { 0 };
    CmMessageKind message_rejected { CmMessageKind::Req };
    uint8_t reject_info_length { 0 }; // 7 bits, at most 72
    uint16_t reason { 0 };
    uint8_t additional_reject_info[rej_ari_size] {};
    uint8_t private_data[rej_private_data_size] {};
};

struct CmMra {
    uint32_t local_comm_id { 0 };
    uint32_t remote_comm_id { 0 }; // may be 0 when MRAing a REQ
    CmMessageKind message_mraed { CmMessageKind::Req };
    uint8_t service_timeout { 0 }; // 5 bits
    uint8_t private_data[mra_private_data_size] {};
};

struct CmDreq {
    uint32_t local_comm_id { 0 };
    uint32_t remote_comm_id { 0 };
    uint32_t remote_qpn { 0 }; // 24 bits: the receiver's QPN
    uint8_t private_data[dreq_private_data_size] {};
};

struct CmDrep {
    uint32_t local_comm_id { 0 };
    uint32_t remote_comm_id { 0 };
    uint8_t private_data[drep_private_data_size] {};
};

// Each decoder takes a whole 256-byte MAD whose header was checked. BadField
// for: a zero comm ID where the message must name one (RTU, DREQ and DREP
// name both, an MRA its sender's; a REJ may name only one side), a reserved
// Message Rejected/MRAed value (3), and a REJ whose ARI length exceeds the
// 72 bytes the ARI field has (a lying length).
[[nodiscard]] CmDrop decode_rtu(Span<const uint8_t> mad, CmRtu& out);
[[nodiscard]] CmDrop decode_rej(Span<const uint8_t> mad, CmRej& out);
[[nodiscard]] CmDrop decode_mra(Span<const uint8_t> mad, CmMra& out);
[[nodiscard]] CmDrop decode_dreq(Span<const uint8_t> mad, CmDreq& out);
[[nodiscard]] CmDrop decode_drep(Span<const uint8_t> mad, CmDrep& out);

// Encoders write the whole MAD; EINVAL for fields too wide, NOSPC for a
// `mad` shorter than 256 bytes.
ErrorOr<void> encode_rtu(const CmRtu& rtu, uint64_t transaction_id, Span<uint8_t> mad);
ErrorOr<void> encode_rej(const CmRej& rej, uint64_t transaction_id, Span<uint8_t> mad);
ErrorOr<void> encode_mra(const CmMra& mra, uint64_t transaction_id, Span<uint8_t> mad);
ErrorOr<void> encode_dreq(const CmDreq& dreq, uint64_t transaction_id, Span<uint8_t> mad);
ErrorOr<void> encode_drep(const CmDrep& drep, uint64_t transaction_id, Span<uint8_t> mad);

} // namespace tessera::rdma::cm
