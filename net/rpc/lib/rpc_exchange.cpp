#include <net/rpc/lib/rpc_endpoint.h>
#include <net/rpc/lib/rpc_exchange.h>
#include <net/rpc/lib/rpc_handler.h>

namespace tessera::rpc {

uint64_t RpcExchange::work_id() const { return static_cast<uint64_t>(m_generation) << 32 | m_slot; }

void RpcExchange::reply(Span<const uint8_t> payload)
{
    if (!m_replied)
        m_endpoint->send_reply(*this, 0, payload);
}

void RpcExchange::reply_error(Errno error)
{
    if (!m_replied)
        m_endpoint->send_reply(*this, static_cast<int32_t>(error), {});
}

ErrorOr<void> RpcExchange::rdma_write(Span<const uint8_t> local, uint32_t lkey, protocol::RemoteBuffer remote)
{
    if (m_replied)
        return Error(Errno::INVAL, "RDMA after the reply could overtake nothing; post it before");
    TRY(m_endpoint->m_transport.rdma_write(work_id(), local, lkey, remote, m_now_ns));
    ++m_rdma_outstanding;
    return {};
}

ErrorOr<void> RpcExchange::rdma_read(protocol::RemoteBuffer remote, Span<uint8_t> local, uint32_t lkey)
{
    if (m_replied)
        return Error(Errno::INVAL, "RDMA after the reply");
    TRY(m_endpoint->m_transport.rdma_read(work_id(), remote, local, lkey, m_now_ns));
    ++m_rdma_outstanding;
    return {};
}

void RpcHandler::rdma_completed(RpcExchange& exchange, const ErrorOr<void>& result)
{
    if (result.is_error())
        exchange.reply_error(Errno::IO);
}

} // namespace tessera::rpc
