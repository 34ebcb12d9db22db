#include <cstddef>
#include <cstring>
#include <gtest/gtest.h>
#include <managers/protocol/lib/heartbeat.h>
#include <managers/protocol/lib/message_codec.h>
#include <managers/protocol/lib/page_transfer.h>
#include <managers/protocol/lib/ping.h>
#include <vector>

using namespace tessera;
using namespace tessera::protocol;

namespace {

std::vector<uint8_t> encode(MessageHeader header, Span<const uint8_t> payload)
{
    std::vector<uint8_t> out(kMaxMessageSize);
    size_t size = MUST(encode_message(header, payload, { out.data(), out.size() }));
    out.resize(size);
    return out;
}

// Encodes a good ping request, lets `forge` damage it, and decodes.
template<typename Forge>
Errno decode_forged(Forge forge)
{
    PingRequest ping {};
    std::vector<uint8_t> bytes = encode(request_header(Opcode::X2X_PING, 7, 3), bytes_of(ping));
    MessageHeader header;
    std::memcpy(&header, bytes.data(), sizeof(header));
    forge(header, bytes);
    std::memcpy(bytes.data(), &header, sizeof(header));
    auto decoded = decode_message({ bytes.data(), bytes.size() });
    EXPECT_TRUE(decoded.is_error());
    return decoded.is_error() ? decoded.error().code() : Errno::PERM;
}

} // namespace

TEST(RpcProtocol, HeaderLayoutIsFixed)
{
    EXPECT_EQ(offsetof(MessageHeader, opcode), 0u);
    EXPECT_EQ(offsetof(MessageHeader, version), 2u);
    EXPECT_EQ(offsetof(MessageHeader, flags), 3u);
    EXPECT_EQ(offsetof(MessageHeader, payload_length), 4u);
    EXPECT_EQ(offsetof(MessageHeader, status), 8u);
    EXPECT_EQ(offsetof(MessageHeader, source_node), 12u);
    EXPECT_EQ(offsetof(MessageHeader, request_id), 16u);
    EXPECT_EQ(offsetof(MessageHeader, reserved), 24u);
    EXPECT_EQ(sizeof(MessageHeader), 32u);
}

TEST(RpcProtocol, OpcodeTableGivesTheShapes)
{
    EXPECT_EQ(opcode_info(static_cast<uint16_t>(Opcode::X2X_PING))->request_size, 32u);
    EXPECT_EQ(opcode_info(static_cast<uint16_t>(Opcode::X2X_PING))->reply_size, 4u);
    EXPECT_EQ(opcode_info(static_cast<uint16_t>(Opcode::X2X_PING_PAGE))->reply_size, 4096u);
    EXPECT_EQ(opcode_info(static_cast<uint16_t>(Opcode::P2M_PAGE_FETCH))->request_size, sizeof(PageFetchRequest));
    EXPECT_STREQ(opcode_name(Opcode::X2G_HEARTBEAT), "X2G_HEARTBEAT");
    EXPECT_EQ(opcode_info(0), nullptr);
    EXPECT_EQ(opcode_info(0xFFFF), nullptr);
}

TEST(RpcProtocol, RequestAndReplyRoundTrip)
{
    PingRequest ping = {};
    ping.sequence = 0x1122334455667788;
    auto bytes = encode(request_header(Opcode::X2X_PING, 42, 5), bytes_of(ping));
    EXPECT_EQ(bytes.size(), 64u);
    auto request = MUST(decode_message({ bytes.data(), bytes.size() }));
    EXPECT_EQ(request.header.request_id, 42u);
    EXPECT_EQ(request.header.source_node, 5u);
    EXPECT_EQ(request.header.version, kProtocolVersion);
    EXPECT_FALSE(request.header.is_reply());
    EXPECT_EQ(MUST(payload_as<PingRequest>(request.payload)).sequence, ping.sequence);

    PingReply pong { 0x55667788 };
    auto reply_bytes = encode(reply_header(request.header, 9, 0), bytes_of(pong));
    auto reply = MUST(decode_message({ reply_bytes.data(), reply_bytes.size() }));
    EXPECT_TRUE(reply.header.is_reply());
    EXPECT_EQ(reply.header.request_id, 42u);
    EXPECT_EQ(reply.header.source_node, 9u);
    EXPECT_EQ(reply.header.opcode, static_cast<uint16_t>(Opcode::X2X_PING));
    EXPECT_EQ(MUST(payload_as<PingReply>(reply.payload)).sequence_low, 0x55667788u);

    // An error reply carries the errno and no payload.
    auto error_bytes = encode(reply_header(request.header, 9, static_cast<int32_t>(Errno::FAULT)), {});
    auto error = MUST(decode_message({ error_bytes.data(), error_bytes.size() }));
    EXPECT_EQ(error.header.status, 14);
    EXPECT_TRUE(error.payload.is_empty());
}

TEST(RpcProtocol, DecodeRejectsEveryBadField)
{
    EXPECT_EQ(decode_forged([](MessageHeader& h, auto&) { h.version = 2; }), Errno::PROTO);
    EXPECT_EQ(decode_forged([](MessageHeader& h, auto&) { h.version = 0; }), Errno::PROTO);
    EXPECT_EQ(decode_forged([](MessageHeader& h, auto&) { h.flags = 0x80; }), Errno::PROTO);
    EXPECT_EQ(decode_forged([](MessageHeader& h, auto&) { h.reserved = 1; }), Errno::PROTO);
    EXPECT_EQ(decode_forged([](MessageHeader& h, auto&) { h.request_id = 0; }), Errno::PROTO);
    EXPECT_EQ(decode_forged([](MessageHeader& h, auto&) { h.status = 22; }), Errno::PROTO); // status in a request
    EXPECT_EQ(decode_forged([](MessageHeader& h, auto&) { h.opcode = 0x7777; }), Errno::NOSYS);
    EXPECT_EQ(decode_forged([](MessageHeader& h, auto&) { h.opcode = 0; }), Errno::NOSYS);
    // Length lies in both directions, and a payload of the wrong shape.
    EXPECT_EQ(decode_forged([](MessageHeader& h, auto&) { h.payload_length = 33; }), Errno::MSGSIZE);
    EXPECT_EQ(decode_forged([](MessageHeader& h, auto&) { h.payload_length = 0xFFFFFFFF; }), Errno::MSGSIZE);
    EXPECT_EQ(decode_forged([](MessageHeader& h, auto& bytes) {
        bytes.push_back(0);
        (void)h;
    }),
        Errno::MSGSIZE);
    EXPECT_EQ(decode_forged([](MessageHeader& h, auto& bytes) {
        bytes.resize(bytes.size() - 1);
        h.payload_length = 31;
    }),
        Errno::BADMSG);
    EXPECT_EQ(decode_forged([](MessageHeader&, auto& bytes) { bytes.resize(31); }), Errno::MSGSIZE);
    // Replies: status must be an errno, an error reply has no payload, a
    // good reply has the reply's shape (a request's payload is not one).
    EXPECT_EQ(decode_forged([](MessageHeader& h, auto&) { h.flags = MessageFlagReply; }), Errno::BADMSG);
    EXPECT_EQ(decode_forged([](MessageHeader& h, auto&) {
        h.flags = MessageFlagReply;
        h.status = 22;
    }),
        Errno::BADMSG);
    EXPECT_EQ(decode_forged([](MessageHeader& h, auto& bytes) {
        h.flags = MessageFlagReply;
        h.status = -1;
        h.payload_length = 0;
        bytes.resize(sizeof(MessageHeader));
    }),
        Errno::PROTO);
    EXPECT_EQ(decode_forged([](MessageHeader& h, auto& bytes) {
        h.flags = MessageFlagReply;
        h.status = 41; // a hole in Linux's errno numbers
        h.payload_length = 0;
        bytes.resize(sizeof(MessageHeader));
    }),
        Errno::PROTO);
}

TEST(RpcProtocol, EncodeRefusesWhatDecodeWouldReject)
{
    std::vector<uint8_t> out(kMaxMessageSize);
    PingRequest ping {};
    MessageHeader header = request_header(Opcode::X2X_PING, 1, 1);
    header.status = 5;
    EXPECT_EQ(encode_message(header, bytes_of(ping), { out.data(), out.size() }).error().code(), Errno::PROTO);
    header = request_header(Opcode::X2X_PING, 1, 1);
    EXPECT_EQ(encode_message(header, bytes_of(PingReply {}), { out.data(), out.size() }).error().code(), Errno::BADMSG);
    EXPECT_EQ(encode_message(header, bytes_of(ping), { out.data(), 40 }).error().code(), Errno::NOSPC);
    EXPECT_EQ(payload_as<PingReply>(bytes_of(ping)).error().code(), Errno::BADMSG);
}

TEST(RpcProtocol, PageTransferValidation)
{
    PageFetchRequest good { 1, 0x7000'0000, 4096, 0, { 0x1000, 5, 4096 } };
    EXPECT_FALSE(validate(good).is_error());
    auto fails = [&](auto change) {
        PageFetchRequest request = good;
        change(request);
        return validate(request).error().code();
    };
    EXPECT_EQ(fails([](auto& r) { r.page_address += 8; }), Errno::INVAL);
    EXPECT_EQ(fails([](auto& r) { r.length = 0; }), Errno::INVAL);
    EXPECT_EQ(fails([](auto& r) { r.length = 100; }), Errno::INVAL);
    EXPECT_EQ(fails([](auto& r) { r.length = 17 * 4096; }), Errno::INVAL);
    EXPECT_EQ(fails([](auto& r) { r.flags = 1; }), Errno::INVAL);
    EXPECT_EQ(fails([](auto& r) { r.destination.rkey = 0; }), Errno::INVAL);
    EXPECT_EQ(fails([](auto& r) {
        r.page_address = 0xFFFF'FFFF'FFFF'F000;
        r.length = 8192;
    }),
        Errno::OVERFLOW);
    EXPECT_EQ(fails([](auto& r) { r.destination.address = UINT64_MAX - 100; }), Errno::OVERFLOW);
    EXPECT_EQ(fails([](auto& r) { r.destination.length = 4095; }), Errno::NOSPC);

    PageFlushRequest flush { 1, 0x2000, 8192, 0, { 0x1000, 9, 8192 } };
    EXPECT_FALSE(validate(flush).is_error());
    flush.source.length = 4096;
    EXPECT_EQ(validate(flush).error().code(), Errno::NOSPC);
}

TEST(RpcProtocol, HeartbeatValidation)
{
    HeartbeatRequest beat { 1, 1000, NodeRoleMemory | NodeRoleStorage, 250, 0 };
    EXPECT_FALSE(validate(beat).is_error());
    beat.roles = 0;
    EXPECT_EQ(validate(beat).error().code(), Errno::INVAL);
    beat.roles = 1u << 7;
    EXPECT_EQ(validate(beat).error().code(), Errno::INVAL);
    beat.roles = NodeRoleGrm;
    beat.load_permille = 1001;
    EXPECT_EQ(validate(beat).error().code(), Errno::INVAL);
    beat.load_permille = 0;
    beat.reserved = 1;
    EXPECT_EQ(validate(beat).error().code(), Errno::INVAL);
}
