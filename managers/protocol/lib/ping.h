#pragma once
// X2X_PING and X2X_PING_PAGE: the smallest round trip and the copying 4 KiB
// one, for tests and benches (`BENCH rpc_ping ...` against ib_send_lat). The
// responder echoes `sequence` so a test can match replies by content too.

#include <kernel/lib/kstd.h>
#include <managers/protocol/lib/message_header.h>

namespace tessera::protocol {

struct PingRequest {
    uint64_t sequence;
    uint8_t filler[24]; // pads the request to the 32 B the bench measures
};
static_assert(sizeof(PingRequest) == 32);
static_assert(kstd::is_trivially_copyable_v<PingRequest>);

struct PingReply {
    uint32_t sequence_low; // the request's sequence, truncated
};
static_assert(sizeof(PingReply) == 4);
static_assert(kstd::is_trivially_copyable_v<PingReply>);

struct PingPageReply {
    uint8_t bytes[kMaxPayloadSize]; // byte i is (sequence + i) & 0xFF
};
static_assert(sizeof(PingPageReply) == 4096);
static_assert(kstd::is_trivially_copyable_v<PingPageReply>);

} // namespace tessera::protocol
