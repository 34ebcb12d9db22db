#pragma once
// The verbs vocabulary, shaped like libibverbs (ibv_wr_opcode, ibv_wc_status,
// ibv_qp_attr, ibv_qp_attr_mask...) so that code written against libibverbs
// reads the same here, and status numbers match what a Linux peer reports.
// Differences from libibverbs: immediate data is the host-order value of the
// wire's big-endian ImmDt (libibverbs keeps it as __be32); addresses are
// IPv4 (RoCE v2 GID ::ffff:a.b.c.d) rather than GIDs.

#include <kernel/lib/kstd.h>
#include <net/inet/lib/addresses.h>

namespace tessera::rdma {

// ibv_access_flags (the bits this provider knows).
enum AccessFlags : uint32_t {
    access_local_write = 1 << 0,
    access_remote_write = 1 << 1,
    access_remote_read = 1 << 2,
};
inline constexpr uint32_t access_known_mask = access_local_write | access_remote_write | access_remote_read;

// ibv_wc_status values.
enum class WcStatus : uint8_t {
    Success = 0,
    LocLenErr = 1,
    LocQpOpErr = 2,
    LocProtErr = 4,
    WrFlushErr = 5,
    BadRespErr = 7,
    LocAccessErr = 8,
    RemInvReqErr = 9,
    RemAccessErr = 10,
    RemOpErr = 11,
    RetryExcErr = 12,
    RnrRetryExcErr = 13,
};
const char* wc_status_name(WcStatus status);

// ibv_wc_opcode values.
enum class WcOpcode : uint8_t {
    Send = 0,
    RdmaWrite = 1,
    RdmaRead = 2,
    Recv = 128,
    RecvRdmaWithImm = 129,
};

// ibv_wr_opcode values.
enum class WrOpcode : uint8_t {
    RdmaWrite = 0,
    RdmaWriteWithImm = 1,
    Send = 2,
    SendWithImm = 3,
    RdmaRead = 4,
};

enum SendFlags : uint32_t {
    send_signaled = 1 << 1,
    send_solicited = 1 << 2,
};

enum WcFlags : uint32_t {
    wc_with_imm = 1 << 1,
    wc_grh = 1 << 0, // UD: the first 40 bytes of the buffer hold the GRH area
};

inline constexpr size_t max_sge = 4;
// UD receive buffers start with this much room for the GRH; for IPv4 the
// IPv4 header fills its last 20 bytes (as rxe does).
inline constexpr size_t ud_grh_size = 40;

struct Sge {
    uint64_t addr { 0 }; // registered VA
    uint32_t length { 0 };
    uint32_t lkey { 0 };
};

// Where a packet goes: the RoCE v2 stand-in for ibv_ah_attr with an IPv4 GID.
struct AddressVector {
    Ipv4Address destination;
    uint8_t hop_limit { 64 }; // IPv4 TTL
    uint8_t traffic_class { 0 }; // IPv4 TOS
};

struct SendWr {
    uint64_t wr_id { 0 };
    WrOpcode opcode { WrOpcode::Send };
    uint32_t send_flags { send_signaled };
    Sge sg_list[max_sge] {};
    uint32_t num_sge { 0 };
    uint32_t imm_data { 0 };
    // RDMA WRITE / READ.
    uint64_t remote_addr { 0 };
    uint32_t rkey { 0 };
    // UD.
    AddressVector ah;
    uint32_t remote_qpn { 0 };
    uint32_t remote_qkey { 0 }; // high bit set: use the QP's own Q_Key (IBA 10.2.4)
};

struct RecvWr {
    uint64_t wr_id { 0 };
    Sge sg_list[max_sge] {};
    uint32_t num_sge { 0 };
};

struct WorkCompletion {
    uint64_t wr_id { 0 };
    WcStatus status { WcStatus::Success };
    WcOpcode opcode { WcOpcode::Send };
    uint32_t byte_len { 0 };
    uint32_t imm_data { 0 };
    uint32_t wc_flags { 0 };
    uint32_t qp_num { 0 };
    uint32_t src_qp { 0 }; // receive completions
    Ipv4Address source; // UD receive: the sender's IP (also in the GRH area)
};

enum class QpType : uint8_t {
    Rc,
    Ud,
    Gsi, // QP1, a UD QP with the GSI Q_Key, for the CM
};

enum class QpState : uint8_t {
    Reset,
    Init,
    Rtr,
    Rts,
    Sqd,
    Err,
};
const char* qp_state_name(QpState state);

// ibv_mtu.
enum class PathMtu : uint8_t {
    Mtu256 = 1,
    Mtu512 = 2,
    Mtu1024 = 3,
    Mtu2048 = 4,
    Mtu4096 = 5,
};
constexpr uint32_t path_mtu_bytes(PathMtu mtu) { return 128u << static_cast<uint8_t>(mtu); }

// ibv_qp_attr_mask bits.
enum QpAttrMask : uint32_t {
    qp_attr_state = 1 << 0,
    qp_attr_access_flags = 1 << 3,
    qp_attr_pkey_index = 1 << 4,
    qp_attr_port = 1 << 5,
    qp_attr_qkey = 1 << 6,
    qp_attr_av = 1 << 7,
    qp_attr_path_mtu = 1 << 8,
    qp_attr_timeout = 1 << 9,
    qp_attr_retry_cnt = 1 << 10,
    qp_attr_rnr_retry = 1 << 11,
    qp_attr_rq_psn = 1 << 12,
    qp_attr_max_qp_rd_atomic = 1 << 13,
    qp_attr_min_rnr_timer = 1 << 15,
    qp_attr_sq_psn = 1 << 16,
    qp_attr_max_dest_rd_atomic = 1 << 17,
    qp_attr_dest_qpn = 1 << 20,
};

struct QpAttr {
    QpState qp_state { QpState::Reset };
    uint32_t qp_access_flags { 0 };
    uint16_t pkey_index { 0 };
    uint8_t port_num { 1 };
    uint32_t qkey { 0 };
    AddressVector ah_attr;
    PathMtu path_mtu { PathMtu::Mtu1024 };
    uint8_t timeout { 14 }; // 4.096 us * 2^timeout; 0 = wait forever
    uint8_t retry_cnt { 6 }; // 7 = retry forever (rxe)
    uint8_t rnr_retry { 6 }; // 7 = retry forever
    uint32_t rq_psn { 0 };
    uint32_t sq_psn { 0 };
    uint8_t max_rd_atomic { 1 };
    uint8_t max_dest_rd_atomic { 1 };
    uint8_t min_rnr_timer { 1 }; // RNR NAK timer code, 0..31
    uint32_t dest_qp_num { 0 };
};

class CompletionQueue;
class ProtectionDomain;

struct QpInitAttr {
    QpType qp_type { QpType::Rc };
    ProtectionDomain* pd { nullptr };
    CompletionQueue* send_cq { nullptr };
    CompletionQueue* recv_cq { nullptr };
    uint32_t max_send_wr { 128 };
    uint32_t max_recv_wr { 128 };
    bool sq_sig_all { false };
};

} // namespace tessera::rdma
