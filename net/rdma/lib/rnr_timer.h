#pragma once
// The RNR NAK timer codes (IBA table 45; rxe's rnrnak_usec[]): how long a
// requester waits after an RNR NAK before resending. Code 0 is the longest.

#include <kernel/lib/kstd.h>

namespace tessera::rdma {

constexpr uint64_t rnr_timer_ns(uint8_t code)
{
    constexpr uint32_t microseconds[32]
        = { 655360, 10, 20, 30, 40, 60, 80, 120, 160, 240, 320, 480, 640, 960, 1280, 1920, 2560, 3840, 5120, 7680,
              10240, 15360, 20480, 30720, 40960, 61440, 81920, 122880, 163840, 245760, 327680, 491520 };
    return static_cast<uint64_t>(microseconds[code & 31]) * 1000;
}

} // namespace tessera::rdma
