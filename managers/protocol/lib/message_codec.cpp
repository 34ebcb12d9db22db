#include <kernel/lib/error.h>
#include <managers/protocol/lib/message_codec.h>

namespace tessera::protocol {

bool is_valid_status(int32_t status)
{
    if (status == 0)
        return true;
    switch (static_cast<Errno>(status)) {
#define TESSERA_ERRNO_CASE(member, value, name)                                                                        \
    case Errno::member:                                                                                                \
        return true;
        TESSERA_ERRNO_LIST(TESSERA_ERRNO_CASE)
#undef TESSERA_ERRNO_CASE
    }
    return false;
}

ErrorOr<const OpcodeInfo*> validate_header(const MessageHeader& header, size_t payload_length)
{
    if (header.version != kProtocolVersion)
        return Error(Errno::PROTO, "unknown protocol version");
    if ((header.flags & ~kKnownMessageFlags) != 0)
        return Error(Errno::PROTO, "unknown message flags");
    if (header.reserved != 0)
        return Error(Errno::PROTO, "reserved header field set");
    if (header.request_id == 0)
        return Error(Errno::PROTO, "request id 0");
    if (header.payload_length != payload_length)
        return Error(Errno::MSGSIZE, "payload length disagrees with the message size");
    const OpcodeInfo* info = opcode_info(header.opcode);
    if (info == nullptr)
        return Error(Errno::NOSYS, "unknown opcode");
    if (!header.is_reply()) {
        if (header.status != 0)
            return Error(Errno::PROTO, "status in a request");
        if (payload_length != info->request_size)
            return Error(Errno::BADMSG, "request payload has the wrong size for its opcode");
        return info;
    }
    if (!is_valid_status(header.status))
        return Error(Errno::PROTO, "reply status is not an errno");
    uint32_t expected = header.status == 0 ? info->reply_size : 0;
    if (payload_length != expected)
        return Error(Errno::BADMSG, "reply payload has the wrong size for its opcode and status");
    return info;
}

ErrorOr<DecodedMessage> decode_message(Span<const uint8_t> bytes)
{
    if (bytes.size() < sizeof(MessageHeader))
        return Error(Errno::MSGSIZE, "message shorter than its header");
    DecodedMessage message {};
    memcpy(&message.header, bytes.data(), sizeof(MessageHeader));
    message.payload = bytes.slice(sizeof(MessageHeader));
    message.info = TRY(validate_header(message.header, message.payload.size()));
    return message;
}

ErrorOr<size_t> encode_message(MessageHeader header, Span<const uint8_t> payload, Span<uint8_t> out)
{
    header.version = kProtocolVersion;
    header.payload_length = static_cast<uint32_t>(payload.size());
    if (payload.size() > kMaxPayloadSize)
        return Error(Errno::MSGSIZE, "payload larger than any message");
    TRY(validate_header(header, payload.size()));
    size_t size = sizeof(MessageHeader) + payload.size();
    if (out.size() < size)
        return Error(Errno::NOSPC, "message buffer too small");
    memcpy(out.data(), &header, sizeof(MessageHeader));
    if (!payload.is_empty())
        memcpy(out.data() + sizeof(MessageHeader), payload.data(), payload.size());
    return size;
}

MessageHeader request_header(Opcode opcode, uint64_t request_id, uint32_t source_node)
{
    MessageHeader header {};
    header.opcode = static_cast<uint16_t>(opcode);
    header.version = kProtocolVersion;
    header.request_id = request_id;
    header.source_node = source_node;
    return header;
}

MessageHeader reply_header(const MessageHeader& request, uint32_t source_node, int32_t status)
{
    MessageHeader header {};
    header.opcode = request.opcode;
    header.version = kProtocolVersion;
    header.flags = MessageFlagReply;
    header.status = status;
    header.request_id = request.request_id;
    header.source_node = source_node;
    return header;
}

} // namespace tessera::protocol
