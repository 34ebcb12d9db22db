#pragma once
// The transport opcodes Tessera's RoCE provider speaks, and which extension
// headers follow the BTH for each (IBA table 38; docs/wire/roce-v2.md "Headers").
// One table: the decoder and the encoder both read it, so they cannot drift.

#include <kernel/lib/kstd.h>

namespace tessera::rdma {

enum class Opcode : uint8_t {
    RcSendFirst = 0x00,
    RcSendMiddle = 0x01,
    RcSendLast = 0x02,
    RcSendLastImm = 0x03,
    RcSendOnly = 0x04,
    RcSendOnlyImm = 0x05,
    RcWriteFirst = 0x06,
    RcWriteMiddle = 0x07,
    RcWriteLast = 0x08,
    RcWriteLastImm = 0x09,
    RcWriteOnly = 0x0a,
    RcWriteOnlyImm = 0x0b,
    RcReadRequest = 0x0c,
    RcReadResponseFirst = 0x0d,
    RcReadResponseMiddle = 0x0e,
    RcReadResponseLast = 0x0f,
    RcReadResponseOnly = 0x10,
    RcAcknowledge = 0x11,
    UdSendOnly = 0x64,
    UdSendOnlyImm = 0x65,
};

enum OpcodeHeader : uint8_t {
    header_reth = 1 << 0,
    header_aeth = 1 << 1,
    header_immdt = 1 << 2,
    header_deth = 1 << 3,
    header_payload = 1 << 4, // the opcode carries data after its headers
};

struct OpcodeInfo {
    Opcode opcode;
    uint8_t headers; // OpcodeHeader bits
    const char* name;

    bool has(OpcodeHeader header) const { return (headers & header) != 0; }
    // Bytes of extension headers between the BTH and the payload.
    size_t extension_size() const;
};

inline constexpr size_t bth_size = 12;
inline constexpr size_t reth_size = 16;
inline constexpr size_t aeth_size = 4;
inline constexpr size_t immdt_size = 4;
inline constexpr size_t deth_size = 8;
inline constexpr size_t icrc_size = 4;

// The table entry for a wire opcode, or nullptr for one we do not speak
// (unknown, UC, RD, atomics: see opcode_table.cpp).
const OpcodeInfo* find_opcode(uint8_t opcode);

// The whole table, for tests that walk every opcode.
const OpcodeInfo* opcode_table_begin();
const OpcodeInfo* opcode_table_end();

} // namespace tessera::rdma
