#pragma once
// The Internet checksum (RFC 1071): the ones' complement of the ones'
// complement sum of 16-bit big-endian words, an odd last byte padded with
// zero. A region that contains a correct checksum sums to 0xffff, so
// internet_checksum() over it returns 0.

#include <kernel/lib/kstd.h>
#include <kernel/lib/span.h>

namespace tessera {

// Accumulates one region into a running 32-bit sum (carries folded later), so
// a pseudo-header and a payload can be summed without being contiguous. Every
// region but the last must have an even length.
uint32_t internet_checksum_add(uint32_t sum, Span<const uint8_t> bytes);

// Folds the carries and complements: the value to store in a header.
uint16_t internet_checksum_finish(uint32_t sum);

inline uint16_t internet_checksum(Span<const uint8_t> bytes)
{
    return internet_checksum_finish(internet_checksum_add(0, bytes));
}

} // namespace tessera
