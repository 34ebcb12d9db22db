#pragma once
// The fixed header in front of every message between monitors (DESIGN
// section 5). It is copied to and from the wire with memcpy in the layout
// below: every node is x86-64, so the wire is little-endian by definition
// (a host tool on another byte order must swap). Field by field:
//
//   opcode          which message (opcode.h), named by direction
//   version         kProtocolVersion; anything else is refused
//   flags           MessageFlags; unknown bits are refused
//   payload_length  bytes after the header; must match the opcode's shape
//   status          0, or a Linux errno in a reply (never in a request)
//   request_id      chosen by the requester, echoed by the reply; never 0
//   source_node     the sender's node id (tessera.node)
//   reserved        zero, so a later version can use it

#include <kernel/lib/kstd.h>

namespace tessera::protocol {

inline constexpr uint8_t kProtocolVersion = 1;

// Bits of MessageHeader::flags.
enum MessageFlags : uint8_t {
    MessageFlagReply = 1u << 0, // this is the answer to request_id
};
inline constexpr uint8_t kKnownMessageFlags = MessageFlagReply;

struct MessageHeader {
    uint16_t opcode;
    uint8_t version;
    uint8_t flags;
    uint32_t payload_length;
    int32_t status;
    uint32_t source_node;
    uint64_t request_id;
    uint64_t reserved;

    bool is_reply() const { return (flags & MessageFlagReply) != 0; }
};

static_assert(sizeof(MessageHeader) == 32);
static_assert(alignof(MessageHeader) == 8);
static_assert(kstd::is_trivially_copyable_v<MessageHeader>);
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the wire layout is x86-64's");

// The largest payload any message carries inline (a 4 KiB page, for the
// copying ping that benches SEND against the zero-copy path), and the largest
// message a transport must accept.
inline constexpr uint32_t kMaxPayloadSize = 4096;
inline constexpr uint32_t kMaxMessageSize = sizeof(MessageHeader) + kMaxPayloadSize;
// Requests are small and fixed per opcode; a server keeps a copy of each one
// it is serving (net/rpc), so every request payload stays within this.
inline constexpr uint32_t kMaxRequestPayloadSize = 256;

} // namespace tessera::protocol
