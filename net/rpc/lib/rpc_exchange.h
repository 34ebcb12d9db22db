#pragma once
// One request being served: a copy of its header and payload, the way to
// answer it, and its RDMA operations. Lives in the endpoint's bounded table
// until it has replied and every RDMA operation it posted has completed.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>
#include <managers/protocol/lib/message_header.h>
#include <managers/protocol/lib/page_transfer.h>

namespace tessera::rpc {

class RpcEndpoint;
class RpcHandler;

class RpcExchange {
public:
    const protocol::MessageHeader& header() const { return m_header; }
    Span<const uint8_t> payload() const { return { m_payload, m_header.payload_length }; }
    uint32_t peer_node() const { return m_header.source_node; }
    bool has_replied() const { return m_replied; }
    uint64_t now_ns() const { return m_now_ns; }

    // Answers with status 0 and `payload` (the opcode's reply shape), or with
    // an errno and no payload. Only the first answer counts.
    void reply(Span<const uint8_t> payload);
    void reply_error(Errno error);

    // Posts an RDMA operation on the peer's registered buffer; its end comes
    // to the handler's rdma_completed(). `local` must stay valid until then.
    ErrorOr<void> rdma_write(Span<const uint8_t> local, uint32_t lkey, protocol::RemoteBuffer remote);
    ErrorOr<void> rdma_read(protocol::RemoteBuffer remote, Span<uint8_t> local, uint32_t lkey);

private:
    friend class RpcEndpoint;

    uint64_t work_id() const;

    RpcEndpoint* m_endpoint { nullptr };
    RpcHandler* m_handler { nullptr };
    protocol::MessageHeader m_header {};
    uint8_t m_payload[protocol::kMaxRequestPayloadSize] {};
    uint64_t m_now_ns { 0 };
    uint32_t m_slot { 0 };
    uint32_t m_generation { 0 };
    uint32_t m_rdma_outstanding { 0 };
    bool m_in_use { false };
    bool m_replied { false };
};

} // namespace tessera::rpc
