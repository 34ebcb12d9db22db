#pragma once
// rdma-peer's control messages: one 32-byte SEND each, all fields
// big-endian. tools/rdma-peer/README.md ("Wire protocol") is the
// specification a second implementation (the Tessera-side service) follows.

#include <cstddef>
#include <cstdint>
#include <string>

namespace rdma_peer {

inline constexpr uint32_t message_magic = 0x52504552; // "RPER"
inline constexpr size_t message_size = 32;

enum class MessageType : uint8_t {
    Hello = 1, // va, rkey, length: the sender's remote-access region
    Expect = 2, // op, length, seed: verify this operation (README, "Operations")
    Fill = 3, // length, seed: fill your region with the pattern, answer Result
    Result = 4, // op, status, length, detail: the verdict on Expect or Fill
    Turn = 5, // the sender finished its active phase: now you drive
    Done = 6, // the second active phase is over: disconnect
    Oob = 7, // op: my next operation is out of bounds; this connection will die
};

enum class Op : uint8_t {
    None = 0,
    Send = 1,
    Write = 2,
    WriteImm = 3,
    Read = 4,
};

enum class Status : uint8_t {
    Ok = 0,
    Mismatch = 1, // detail = first differing offset
    BadLength = 2, // detail = the length that arrived
    BadImmediate = 3, // detail = the immediate that arrived
    BadOpcode = 4, // detail = the ibv_wc_opcode that arrived
    TooLarge = 5, // length exceeds the region
};

struct Message {
    MessageType type { MessageType::Hello };
    Op op { Op::None };
    Status status { Status::Ok };
    uint64_t va { 0 };
    uint32_t rkey { 0 };
    uint32_t length { 0 };
    uint32_t seed { 0 };
    uint32_t detail { 0 };
};

// Layout: 0 magic(4) | 4 type(1) | 5 op(1) | 6 status(1) | 7 zero(1) |
// 8 va(8) | 16 rkey(4) | 20 length(4) | 24 seed(4) | 28 detail(4).
void encode_message(const Message& message, uint8_t* out);
// False for a wrong magic, a nonzero byte 7 or an unknown type.
bool decode_message(const uint8_t* in, size_t size, Message& out);

const char* op_name(Op op);
const char* message_type_name(MessageType type);

// The pattern a buffer of `length` bytes carries for `seed`: splitmix64
// from the seed, eight little-endian bytes per step.
void fill_pattern(uint8_t* out, size_t length, uint32_t seed);
// The first offset where `data` differs from the pattern, or -1.
long find_mismatch(const uint8_t* data, size_t length, uint32_t seed);
// The seed for one operation: FNV-1a of "<driver>:<op>:<length>" where
// driver is "client" or "server", so each direction, op and size differs.
uint32_t operation_seed(const std::string& driver, Op op, uint32_t length);

} // namespace rdma_peer
