#include <net/rdma/lib/opcode_table.h>

namespace tessera::rdma {

namespace {

// Extension header order on the wire (IBA 9.2): DETH, RETH, AETH, ImmDt.
// rxe's rxe_opcode.c agrees for every opcode listed here. Atomics
// (0x12-0x14) are left out on purpose: AtomicETH/AtomicAckETH need a
// responder that executes them, and until there is one the decoder rejects
// them as unknown, which the responder answers with NAK "invalid request".
constexpr uint8_t send_data = header_payload;
const OpcodeInfo s_table[] = {
    { Opcode::RcSendFirst, send_data, "RC_SEND_FIRST" },
    { Opcode::RcSendMiddle, send_data, "RC_SEND_MIDDLE" },
    { Opcode::RcSendLast, send_data, "RC_SEND_LAST" },
    { Opcode::RcSendLastImm, send_data | header_immdt, "RC_SEND_LAST_WITH_IMMEDIATE" },
    { Opcode::RcSendOnly, send_data, "RC_SEND_ONLY" },
    { Opcode::RcSendOnlyImm, send_data | header_immdt, "RC_SEND_ONLY_WITH_IMMEDIATE" },
    { Opcode::RcWriteFirst, send_data | header_reth, "RC_RDMA_WRITE_FIRST" },
    { Opcode::RcWriteMiddle, send_data, "RC_RDMA_WRITE_MIDDLE" },
    { Opcode::RcWriteLast, send_data, "RC_RDMA_WRITE_LAST" },
    { Opcode::RcWriteLastImm, send_data | header_immdt, "RC_RDMA_WRITE_LAST_WITH_IMMEDIATE" },
    { Opcode::RcWriteOnly, send_data | header_reth, "RC_RDMA_WRITE_ONLY" },
    { Opcode::RcWriteOnlyImm, send_data | header_reth | header_immdt, "RC_RDMA_WRITE_ONLY_WITH_IMMEDIATE" },
    { Opcode::RcReadRequest, header_reth, "RC_RDMA_READ_REQUEST" },
    { Opcode::RcReadResponseFirst, send_data | header_aeth, "RC_RDMA_READ_RESPONSE_FIRST" },
    { Opcode::RcReadResponseMiddle, send_data, "RC_RDMA_READ_RESPONSE_MIDDLE" },
    { Opcode::RcReadResponseLast, send_data | header_aeth, "RC_RDMA_READ_RESPONSE_LAST" },
    { Opcode::RcReadResponseOnly, send_data | header_aeth, "RC_RDMA_READ_RESPONSE_ONLY" },
    { Opcode::RcAcknowledge, header_aeth, "RC_ACKNOWLEDGE" },
    { Opcode::UdSendOnly, send_data | header_deth, "UD_SEND_ONLY" },
    { Opcode::UdSendOnlyImm, send_data | header_deth | header_immdt, "UD_SEND_ONLY_WITH_IMMEDIATE" },
};

} // namespace

size_t OpcodeInfo::extension_size() const
{
    size_t size = 0;
    if (has(header_deth))
        size += deth_size;
    if (has(header_reth))
        size += reth_size;
    if (has(header_aeth))
        size += aeth_size;
    if (has(header_immdt))
        size += immdt_size;
    return size;
}

const OpcodeInfo* find_opcode(uint8_t opcode)
{
    for (const OpcodeInfo& info : s_table) {
        if (static_cast<uint8_t>(info.opcode) == opcode)
            return &info;
    }
    return nullptr;
}

const OpcodeInfo* opcode_table_begin() { return s_table; }
const OpcodeInfo* opcode_table_end() { return s_table + sizeof(s_table) / sizeof(s_table[0]); }

} // namespace tessera::rdma
