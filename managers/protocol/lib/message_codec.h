#pragma once
// Encoding and validation of whole messages (header + payload). decode
// rejects every field it can judge without knowing the connection:
//
//   MSGSIZE  fewer bytes than a header, or payload_length disagreeing with
//            the bytes actually received (a length lie either way)
//   PROTO    another version, unknown flag bits, nonzero reserved, request
//            id 0, a status in a request, a status that is not a Linux
//            errno, payload on an error reply
//   NOSYS    an opcode outside the table
//   BADMSG   a payload size other than the opcode's request/reply shape
//
// What needs the connection (is source_node the peer? does request_id match
// a request in flight?) is the RPC endpoint's check. encode runs the same
// validation, so we never send what a peer would have to refuse.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>
#include <kernel/lib/string.h>
#include <managers/protocol/lib/message_header.h>
#include <managers/protocol/lib/opcode.h>

namespace tessera::protocol {

struct DecodedMessage {
    MessageHeader header;
    const OpcodeInfo* info;
    Span<const uint8_t> payload; // points into the decoded bytes
};

ErrorOr<DecodedMessage> decode_message(Span<const uint8_t> bytes);

// Checks `header` as decode would, for a payload of `payload_length` bytes.
ErrorOr<const OpcodeInfo*> validate_header(const MessageHeader& header, size_t payload_length);

// Writes `header` (version and payload_length filled in here) and `payload`
// into `out`; returns the message size. NOSPC when `out` is too small, and
// any error validate_header() gives.
ErrorOr<size_t> encode_message(MessageHeader header, Span<const uint8_t> payload, Span<uint8_t> out);

MessageHeader request_header(Opcode opcode, uint64_t request_id, uint32_t source_node);
MessageHeader reply_header(const MessageHeader& request, uint32_t source_node, int32_t status);

// Whether `status` is 0 or an errno Linux defines.
bool is_valid_status(int32_t status);

// A payload as its struct: BADMSG unless the size is exactly sizeof(T).
template<typename T>
ErrorOr<T> payload_as(Span<const uint8_t> payload)
{
    static_assert(kstd::is_trivially_copyable_v<T>);
    if (payload.size() != sizeof(T))
        return Error(Errno::BADMSG, "payload size differs from its struct");
    T value;
    memcpy(&value, payload.data(), sizeof(T));
    return value;
}

template<typename T>
Span<const uint8_t> bytes_of(const T& value)
{
    static_assert(kstd::is_trivially_copyable_v<T>);
    return { reinterpret_cast<const uint8_t*>(&value), sizeof(T) };
}

} // namespace tessera::protocol
