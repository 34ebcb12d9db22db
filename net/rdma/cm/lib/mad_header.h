#pragma once
// The 24-byte MAD common header (docs/wire/rdma-cm.md section 3; IBTA vol. 1
// 13.4.3) and the constants every CM MAD shares. All fields big-endian.

#include <kernel/lib/kstd.h>
#include <kernel/lib/span.h>
#include <net/rdma/cm/lib/cm_drop.h>

namespace tessera::rdma::cm {

constexpr size_t mad_size = 256; // every CM MAD, never split (no RMPP)
constexpr size_t mad_header_size = 24;
constexpr uint8_t mad_base_version = 1;
constexpr uint8_t mad_class_cm = 0x07;
constexpr uint8_t mad_class_version_cm = 2;
constexpr uint8_t mad_method_send = 0x03;
constexpr uint32_t gsi_qpn = 1; // CM MADs always go to QP 1
constexpr uint32_t gsi_qkey = 0x80010000; // rxe drops any other Q_Key on QP 1 (2.1)

enum class CmAttribute : uint16_t {
    Req = 0x0010,
    Mra = 0x0011,
    Rej = 0x0012,
    Rep = 0x0013,
    Rtu = 0x0014,
    Dreq = 0x0015,
    Drep = 0x0016,
    SidrReq = 0x0017,
    SidrRep = 0x0018,
    Lap = 0x0019,
    Apr = 0x001A,
};

struct MadHeader {
    uint8_t base_version { mad_base_version };
    uint8_t mgmt_class { mad_class_cm };
    uint8_t class_version { mad_class_version_cm };
    uint8_t method { mad_method_send }; // bit 7 is the response bit
    uint16_t status { 0 };
    uint16_t class_specific { 0 };
    uint64_t transaction_id { 0 };
    uint16_t attribute_id { 0 };
    uint32_t attribute_modifier { 0 }; // Linux's ECE attr_mod, 0 for rxe
};

// Decodes a whole received MAD's header and checks what Linux checks before
// a MAD reaches its CM (3.1): length 256, base version 1, class 0x07, class
// version 2, method Send, attribute 0x0010..0x001A and not SIDR/LAP/APR.
// Status, ClassSpecific, Reserved and AttributeModifier are not checked,
// as in Linux.
[[nodiscard]] CmDrop decode_mad_header(Span<const uint8_t> mad, MadHeader& out);

// Writes the 24 header bytes at the start of `mad` (reserved bytes zero).
// VERIFYs that `mad` holds at least 24 bytes.
void encode_mad_header(const MadHeader& header, Span<uint8_t> mad);

} // namespace tessera::rdma::cm
