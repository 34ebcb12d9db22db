#pragma once
// rping's application protocol pieces that are pure data (rdma-core v44.0
// librdmacm/examples/rping.c; docs/wire/rdma-cm.md 8.2-8.3): the 16-byte buffer
// descriptor the client SENDs (struct rping_rdma_info, big-endian) and the
// ping pattern the client fills its buffer with. Kept here because rping is
// how a Linux peer first exercises a connection the CM set up.

#include <kernel/lib/error_or.h>
#include <kernel/lib/span.h>

namespace tessera::rdma::cm {

constexpr size_t rping_descriptor_size = 16;

struct RpingDescriptor {
    uint64_t address { 0 }; // the buffer's virtual address in the client
    uint32_t rkey { 0 };
    uint32_t size { 0 }; // the client's -S
};

// Both sides refuse a receive that is not exactly 16 bytes ("Received bogus
// data"): EINVAL.
ErrorOr<RpingDescriptor> decode_rping_descriptor(Span<const uint8_t> bytes);
// VERIFYs 16 bytes of room.
void encode_rping_descriptor(const RpingDescriptor& descriptor, Span<uint8_t> out);

// Ping `n`'s buffer: "rdma-ping-<n>: ", then ASCII from 65 + n % 58 rising
// and wrapping from 'z' (122) to 'A' (65), the last byte NUL. VERIFYs
// out.size() >= 1.
void fill_rping_pattern(uint64_t n, Span<uint8_t> out);

} // namespace tessera::rdma::cm
