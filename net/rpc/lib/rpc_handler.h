#pragma once
// A server-side handler for one opcode (DESIGN section 5, "validate, then
// perform"). validate() decodes and checks every field and has no side
// effects: an error becomes the reply's status. perform() acts in a step
// that cannot fail halfway and either replies at once or posts RDMA and
// replies from rdma_completed(). A handler never panics on a remote message.
//
// Zero-copy fetch: perform() posts exchange.rdma_write(page, requester's
// buffer) and replies immediately; RC ordering places the reply after the
// data. Flush: perform() posts exchange.rdma_read() and replies from
// rdma_completed(), once the page is here.

#include <kernel/lib/error_or.h>

namespace tessera::rpc {

class RpcExchange;

class RpcHandler {
public:
    virtual ErrorOr<void> validate(const RpcExchange& exchange) = 0;
    virtual void perform(RpcExchange& exchange) = 0;
    // One posted RDMA operation finished. The default replies EIO on a
    // failure if nothing was replied yet.
    virtual void rdma_completed(RpcExchange& exchange, const ErrorOr<void>& result);

protected:
    ~RpcHandler() = default;
};

} // namespace tessera::rpc
