#include "wire.h"

#include <cstring>

namespace rdma_peer {

namespace {

void put_be(uint8_t* out, uint64_t value, int bytes)
{
    for (int i = 0; i < bytes; ++i)
        out[i] = static_cast<uint8_t>(value >> (8 * (bytes - 1 - i)));
}

uint64_t get_be(const uint8_t* in, int bytes)
{
    uint64_t value = 0;
    for (int i = 0; i < bytes; ++i)
        value = value << 8 | in[i];
    return value;
}

uint64_t splitmix64(uint64_t& state)
{
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

} // namespace

void encode_message(const Message& message, uint8_t* out)
{
    std::memset(out, 0, message_size);
    put_be(out, message_magic, 4);
    out[4] = static_cast<uint8_t>(message.type);
    out[5] = static_cast<uint8_t>(message.op);
    out[6] = static_cast<uint8_t>(message.status);
    put_be(out + 8, message.va, 8);
    put_be(out + 16, message.rkey, 4);
    put_be(out + 20, message.length, 4);
    put_be(out + 24, message.seed, 4);
    put_be(out + 28, message.detail, 4);
}

bool decode_message(const uint8_t* in, size_t size, Message& out)
{
    if (size != message_size || get_be(in, 4) != message_magic || in[7] != 0)
        return false;
    if (in[4] < static_cast<uint8_t>(MessageType::Hello) || in[4] > static_cast<uint8_t>(MessageType::Oob))
        return false;
    out.type = static_cast<MessageType>(in[4]);
    out.op = static_cast<Op>(in[5]);
    out.status = static_cast<Status>(in[6]);
    out.va = get_be(in + 8, 8);
    out.rkey = static_cast<uint32_t>(get_be(in + 16, 4));
    out.length = static_cast<uint32_t>(get_be(in + 20, 4));
    out.seed = static_cast<uint32_t>(get_be(in + 24, 4));
    out.detail = static_cast<uint32_t>(get_be(in + 28, 4));
    return true;
}

const char* op_name(Op op)
{
    switch (op) {
    case Op::Send:
        return "SEND";
    case Op::Write:
        return "WRITE";
    case Op::WriteImm:
        return "WRITE_IMM";
    case Op::Read:
        return "READ";
    case Op::None:
        break;
    }
    return "NONE";
}

const char* message_type_name(MessageType type)
{
    switch (type) {
    case MessageType::Hello:
        return "Hello";
    case MessageType::Expect:
        return "Expect";
    case MessageType::Fill:
        return "Fill";
    case MessageType::Result:
        return "Result";
    case MessageType::Turn:
        return "Turn";
    case MessageType::Done:
        return "Done";
    case MessageType::Oob:
        return "Oob";
    }
    return "?";
}

void fill_pattern(uint8_t* out, size_t length, uint32_t seed)
{
    uint64_t state = seed;
    for (size_t i = 0; i < length; i += 8) {
        uint64_t word = splitmix64(state);
        for (size_t j = 0; j < 8 && i + j < length; ++j)
            out[i + j] = static_cast<uint8_t>(word >> (8 * j));
    }
}

long find_mismatch(const uint8_t* data, size_t length, uint32_t seed)
{
    uint64_t state = seed;
    for (size_t i = 0; i < length; i += 8) {
        uint64_t word = splitmix64(state);
        for (size_t j = 0; j < 8 && i + j < length; ++j) {
            if (data[i + j] != static_cast<uint8_t>(word >> (8 * j)))
                return static_cast<long>(i + j);
        }
    }
    return -1;
}

uint32_t operation_seed(const std::string& driver, Op op, uint32_t length)
{
    std::string key = driver + ":" + op_name(op) + ":" + std::to_string(length);
    uint32_t hash = 2166136261u;
    for (unsigned char c : key)
        hash = (hash ^ c) * 16777619u;
    return hash;
}

} // namespace rdma_peer
