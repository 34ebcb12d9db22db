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

constexpr uint64_t ns_per_ms = 1000000;
constexpr uint64_t ns_per_second = 1000000000;

} // namespace tessera
