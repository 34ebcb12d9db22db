#pragma once
// Monotonic time from the TSC, calibrated once at boot against the PIT.
// Before calibration uptime_ns() is 0.

#include <kernel/lib/kstd.h>

namespace tessera {

void clock_set_tsc_frequency(uint64_t tsc_hz, uint64_t tsc_at_boot);
uint64_t tsc_frequency();
// The TSC value when kernel_main started (cycles since reset).
uint64_t tsc_at_boot();
uint64_t uptime_ns();
uint64_t tsc_to_ns(uint64_t cycles);

// The uptime `ns` from now, saturating: a caller asking for "a very long
// time" (~0ull) must not get a deadline that wrapped into the past.
inline uint64_t deadline_after_ns(uint64_t ns)
{
    uint64_t now = uptime_ns();
    return ns > ~0ull - now ? ~0ull : now + ns;
}

constexpr uint64_t ns_per_ms = 1000000;
constexpr uint64_t ns_per_second = 1000000000;

} // namespace tessera
