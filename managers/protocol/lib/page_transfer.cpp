#include <kernel/lib/checked.h>
#include <managers/protocol/lib/page_transfer.h>

namespace tessera::protocol {

namespace {

ErrorOr<void> validate_transfer(uint64_t page_address, uint32_t length, uint32_t flags, const RemoteBuffer& buffer)
{
    if (page_address % kPageSize != 0)
        return Error(Errno::INVAL, "page address not page aligned");
    if (length == 0 || length % kPageSize != 0 || length / kPageSize > kMaxTransferPages)
        return Error(Errno::INVAL, "transfer length is not 1..16 whole pages");
    if (flags != 0)
        return Error(Errno::INVAL, "unknown transfer flags");
    if (buffer.rkey == 0)
        return Error(Errno::INVAL, "remote buffer without an rkey");
    if (checked_add<uint64_t>(page_address, length - 1).is_error())
        return Error(Errno::OVERFLOW, "page range wraps");
    if (checked_add<uint64_t>(buffer.address, buffer.length).is_error())
        return Error(Errno::OVERFLOW, "remote buffer wraps");
    if (buffer.length < length)
        return Error(Errno::NOSPC, "remote buffer shorter than the transfer");
    return {};
}

} // namespace

ErrorOr<void> validate(const PageFetchRequest& request)
{
    return validate_transfer(request.page_address, request.length, request.flags, request.destination);
}

ErrorOr<void> validate(const PageFlushRequest& request)
{
    return validate_transfer(request.page_address, request.length, request.flags, request.source);
}

} // namespace tessera::protocol
