#pragma once
// Helpers shared by the CM message codecs: the Gid load/store and the width
// check an encoder applies to every bit-packed field.

#include <kernel/lib/span.h>
#include <net/rdma/cm/lib/cm_ids.h>

namespace tessera::rdma::cm {

constexpr bool fits_bits(uint64_t value, unsigned bits) { return bits >= 64 || value >> bits == 0; }

inline Gid load_gid(Span<const uint8_t> bytes, size_t offset)
{
    Gid gid;
    for (size_t i = 0; i < 16; ++i)
        gid.bytes[i] = bytes[offset + i];
    return gid;
}

inline void store_gid(Span<uint8_t> bytes, size_t offset, const Gid& gid)
{
    for (size_t i = 0; i < 16; ++i)
        bytes[offset + i] = gid.bytes[i];
}

inline void load_bytes(Span<const uint8_t> bytes, size_t offset, uint8_t* out, size_t count)
{
    for (size_t i = 0; i < count; ++i)
        out[i] = bytes[offset + i];
}

inline void store_bytes(Span<uint8_t> bytes, size_t offset, const uint8_t* in, size_t count)
{
    for (size_t i = 0; i < count; ++i)
        bytes[offset + i] = in[i];
}

} // namespace tessera::rdma::cm
