#pragma once
// The InfiniBand transport headers RoCE v2 carries after UDP port 4791, as
// typed values, and their decode/encode (docs/wire/roce-v2.md "Headers"; IBA
// vol. 1 ch. 9.2-9.3). A packet is BTH, the extension headers its opcode
// names in opcode_table.cpp, the payload, 0-3 pad bytes and the 4-byte ICRC.
// The ICRC itself is icrc.h's business: it needs the IP and UDP headers.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>
#include <net/rdma/lib/opcode_table.h>

namespace tessera::rdma {

struct Bth {
    Opcode opcode { Opcode::RcSendOnly };
    bool solicited { false }; // SE
    bool migrated { false }; // M
    uint8_t pad_count { 0 }; // decode only: encode derives it from the payload
    uint16_t pkey { 0xFFFF }; // rxe sends 0xFFFF
    bool fecn { false }; // F (byte 4 bit 7)
    bool becn { false }; // B (byte 4 bit 6)
    uint32_t dest_qpn { 0 }; // 24 bits
    bool ack_request { false }; // A
    uint32_t psn { 0 }; // 24 bits
};

struct Reth {
    uint64_t virtual_address { 0 };
    uint32_t rkey { 0 };
    uint32_t dma_length { 0 }; // the whole message's length
};

enum class AethKind : uint8_t {
    Ack = 0, // value = credit count (rxe sends 0x1F, "unlimited")
    RnrNak = 1, // value = RNR timer code
    Nak = 3, // value = NakCode
};

enum class NakCode : uint8_t {
    PsnSequenceError = 0,
    InvalidRequest = 1,
    RemoteAccessError = 2,
    RemoteOperationalError = 3,
    InvalidRdRequest = 4,
};

struct Aeth {
    AethKind kind { AethKind::Ack };
    uint8_t value { 0x1F }; // the syndrome's low 5 bits
    uint32_t msn { 0 }; // 24 bits

    uint8_t syndrome() const { return static_cast<uint8_t>(static_cast<uint8_t>(kind) << 5 | value); }
    NakCode nak_code() const { return static_cast<NakCode>(value); }
};

struct Deth {
    uint32_t qkey { 0 };
    uint32_t source_qpn { 0 }; // 24 bits
};

// A packet's headers. Only the extension headers the opcode's table entry
// names are meaningful; the others keep their defaults.
struct TransportHeaders {
    Bth bth;
    Reth reth;
    Aeth aeth;
    uint32_t immediate { 0 }; // ImmDt, opaque (verbs imm_data is __be32)
    Deth deth;
};

struct DecodedPacket {
    const OpcodeInfo* info { nullptr };
    TransportHeaders headers;
    Span<const uint8_t> payload; // without pad and ICRC
};

// Decodes the UDP payload of a RoCE v2 packet (BTH through ICRC inclusive).
// Never reads outside `packet`. Errors: MSGSIZE when the packet is shorter
// than its headers + pad + ICRC, PROTO for a bad field (TVer != 0, pad
// larger than the payload, data on a dataless opcode, a reserved AETH
// syndrome), NOSYS for an opcode outside the table.
ErrorOr<DecodedPacket> decode_packet(Span<const uint8_t> packet);

// The size encode_packet() needs for `payload_size` bytes of data under
// `opcode` (headers, payload, pad and ICRC).
ErrorOr<size_t> encoded_size(Opcode opcode, size_t payload_size);

// Writes BTH, extension headers, payload and zero pad into `out` and zeroes
// the 4 ICRC bytes (icrc.h fills them). Pad count comes from the payload
// size; headers.bth.pad_count is ignored. Returns the bytes written.
// Errors: INVAL for out-of-range fields or data on a dataless opcode,
// NOSYS for an opcode outside the table, NOSPC when `out` is too small.
ErrorOr<size_t> encode_packet(const TransportHeaders& headers, Span<const uint8_t> payload, Span<uint8_t> out);

} // namespace tessera::rdma
