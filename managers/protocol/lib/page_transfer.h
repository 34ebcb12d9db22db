#pragma once
// P2M_PAGE_FETCH and P2M_PAGE_FLUSH: pages move zero-copy, never through
// SEND buffers. The requester names a buffer it registered for RDMA (its
// RemoteBuffer); for a fetch the memory monitor RDMA-WRITEs the page into
// it and then replies, for a flush it RDMA-READs the page from it, stores
// it, and then replies. On an RC queue pair a SEND posted after a WRITE is
// placed after it, so the reply never overtakes the data (net/rpc/README.md).
//
// Pages are named by (address_space, page_address): the memory monitor owns
// the address space and decides whether the address is mapped there.

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera::protocol {

inline constexpr uint32_t kPageSize = 4096;
// A transfer moves 1..kMaxTransferPages whole pages.
inline constexpr uint32_t kMaxTransferPages = 16;

// A buffer the requester registered for remote access: what the responder's
// RDMA WRITE or READ targets. `address` is the requester's virtual address
// in the memory region named by `rkey` (verbs semantics).
struct RemoteBuffer {
    uint64_t address;
    uint32_t rkey;
    uint32_t length;
};
static_assert(sizeof(RemoteBuffer) == 16);
static_assert(kstd::is_trivially_copyable_v<RemoteBuffer>);

struct PageFetchRequest {
    uint64_t address_space; // the process's address-space id on the memory monitor
    uint64_t page_address; // page aligned
    uint32_t length; // whole pages
    uint32_t flags; // zero for now
    RemoteBuffer destination; // where the page is written
};
static_assert(sizeof(PageFetchRequest) == 40);
static_assert(kstd::is_trivially_copyable_v<PageFetchRequest>);

struct PageFetchReply {
    uint32_t length; // bytes written into the destination
    uint32_t reserved;
    uint64_t version; // the page's write version, for replication checks
};
static_assert(sizeof(PageFetchReply) == 16);
static_assert(kstd::is_trivially_copyable_v<PageFetchReply>);

struct PageFlushRequest {
    uint64_t address_space;
    uint64_t page_address;
    uint32_t length;
    uint32_t flags; // zero for now
    RemoteBuffer source; // where the dirty page is read from
};
static_assert(sizeof(PageFlushRequest) == 40);
static_assert(kstd::is_trivially_copyable_v<PageFlushRequest>);

struct PageFlushReply {
    uint32_t length; // bytes stored
    uint32_t reserved;
    uint64_t version; // the page's write version after the flush
};
static_assert(sizeof(PageFlushReply) == 16);
static_assert(kstd::is_trivially_copyable_v<PageFlushReply>);

// The shape checks both requests share, before any lookup: INVAL for an
// unaligned address, a length that is not 1..kMaxTransferPages whole pages,
// nonzero flags, or a buffer with rkey 0; OVERFLOW when the page range or
// the buffer wraps; NOSPC when the buffer is shorter than the length.
ErrorOr<void> validate(const PageFetchRequest& request);
ErrorOr<void> validate(const PageFlushRequest& request);

} // namespace tessera::protocol
