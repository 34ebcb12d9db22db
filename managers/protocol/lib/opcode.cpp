#include <managers/protocol/lib/heartbeat.h>
#include <managers/protocol/lib/opcode.h>
#include <managers/protocol/lib/page_transfer.h>
#include <managers/protocol/lib/ping.h>

namespace tessera::protocol {

namespace {

constexpr OpcodeInfo s_opcodes[] = {
    { Opcode::X2X_PING, "X2X_PING", sizeof(PingRequest), sizeof(PingReply) },
    { Opcode::X2X_PING_PAGE, "X2X_PING_PAGE", sizeof(PingRequest), sizeof(PingPageReply) },
    { Opcode::X2G_HEARTBEAT, "X2G_HEARTBEAT", sizeof(HeartbeatRequest), sizeof(HeartbeatReply) },
    { Opcode::P2M_PAGE_FETCH, "P2M_PAGE_FETCH", sizeof(PageFetchRequest), sizeof(PageFetchReply) },
    { Opcode::P2M_PAGE_FLUSH, "P2M_PAGE_FLUSH", sizeof(PageFlushRequest), sizeof(PageFlushReply) },
};

constexpr bool requests_fit()
{
    for (const auto& info : s_opcodes) {
        if (info.request_size > kMaxRequestPayloadSize || info.reply_size > kMaxPayloadSize)
            return false;
    }
    return true;
}
static_assert(requests_fit(), "a payload is larger than message_header.h allows");

} // namespace

const OpcodeInfo* opcode_info(uint16_t opcode)
{
    for (const auto& info : s_opcodes) {
        if (static_cast<uint16_t>(info.opcode) == opcode)
            return &info;
    }
    return nullptr;
}

const char* opcode_name(Opcode opcode)
{
    const OpcodeInfo* info = opcode_info(static_cast<uint16_t>(opcode));
    return info != nullptr ? info->name : "?";
}

} // namespace tessera::protocol
