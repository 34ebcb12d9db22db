#include <net/rpc/lib/rpc_transport.h>

namespace tessera::rpc {

ErrorOr<void> RpcTransport::rdma_write(uint64_t, Span<const uint8_t>, uint32_t, RemoteBuffer, uint64_t)
{
    return Error(Errno::NOSYS, "transport has no RDMA");
}

ErrorOr<void> RpcTransport::rdma_read(uint64_t, RemoteBuffer, Span<uint8_t>, uint32_t, uint64_t)
{
    return Error(Errno::NOSYS, "transport has no RDMA");
}

} // namespace tessera::rpc
