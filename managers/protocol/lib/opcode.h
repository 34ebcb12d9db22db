#pragma once
// Every message opcode, named by direction: X2G_ from any node to the GRM,
// P2M_ processor to memory, X2X_ any to any (tests and benches). Numbers are
// grouped by the receiving monitor so a dump reads at a glance; they are
// wire values and never reused. The table in opcode.cpp gives each opcode's
// fixed request and reply payload sizes, which decode_message() enforces.

#include <kernel/lib/kstd.h>

namespace tessera::protocol {

enum class Opcode : uint16_t {
    X2X_PING = 0x0001, // 32 B request, 4 B reply: round-trip latency
    X2X_PING_PAGE = 0x0002, // 32 B request, 4 KiB reply copied through SEND buffers
    X2G_HEARTBEAT = 0x0101,
    P2M_PAGE_FETCH = 0x0201, // the page arrives by RDMA WRITE before the reply
    P2M_PAGE_FLUSH = 0x0202, // the page is taken by RDMA READ before the reply
};

struct OpcodeInfo {
    Opcode opcode;
    const char* name;
    uint32_t request_size; // the payload of a request, exactly
    uint32_t reply_size; // the payload of a successful reply, exactly (an error reply has none)
};

// The table entry of a wire opcode, or nullptr for one we do not know.
const OpcodeInfo* opcode_info(uint16_t opcode);
const char* opcode_name(Opcode opcode);

} // namespace tessera::protocol
