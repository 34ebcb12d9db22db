#pragma once
// PSN arithmetic: packet sequence numbers are 24 bits and compared modulo
// 2^24 (IBA 9.7.1; docs/wire/roce-v2.md "PSN, ACK and retransmission": the wrap
// 0xFFFFFF -> 0 must work). A PSN is "after" another when it lies in the half
// of the circle ahead of it, as rxe's psn_compare() does with a signed shift.

#include <kernel/lib/kstd.h>

namespace tessera::rdma {

inline constexpr uint32_t psn_mask = 0xFFFFFF;

constexpr uint32_t psn_add(uint32_t psn, uint32_t delta) { return (psn + delta) & psn_mask; }

// (a - b) as a signed 24-bit distance in [-2^23, 2^23).
constexpr int32_t psn_diff(uint32_t a, uint32_t b)
{
    // Shift the 24-bit difference into the top of a 32-bit word and back, so
    // that its bit 23 becomes the sign.
    return static_cast<int32_t>(((a - b) & psn_mask) << 8) >> 8;
}

constexpr bool psn_before(uint32_t a, uint32_t b) { return psn_diff(a, b) < 0; }
constexpr bool psn_after(uint32_t a, uint32_t b) { return psn_diff(a, b) > 0; }

// Whether psn lies in the window [first, first + count), modulo 2^24.
constexpr bool psn_in_window(uint32_t psn, uint32_t first, uint32_t count)
{
    return ((psn - first) & psn_mask) < count;
}

} // namespace tessera::rdma
