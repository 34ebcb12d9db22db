#pragma once
// The rate of a hardware counter (the PIT, the LAPIC timer) in TSC cycles,
// from reads of the counter each bracketed by two TSC reads. Portable (takes
// the samples, touches no hardware), so the math is host-tested.
//
// Why reads and not waiting for an event: under emulation on a busy host the
// vCPU can be descheduled at any instant, so a poll loop sees an event (the
// PIT's terminal count) milliseconds late and nothing tells it so. A read
// bracketed by TSC reads carries its own uncertainty: a bracket that is wide
// says the vCPU stopped mid-read, and such a read is simply not chosen.

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera::arch {

// The counter held `count` at some instant in [tsc_before, tsc_after].
struct CounterSample {
    uint64_t tsc_before;
    uint64_t tsc_after;
    uint32_t count;
};

// Between the two chosen samples: `counter_ticks` counter ticks (wraps
// unfolded) took `tsc_cycles`, known to within `error_ppm` (a bound, not an
// estimate: bracket half-widths plus one tick of counter quantization).
struct CounterRate {
    uint64_t tsc_cycles;
    uint64_t counter_ticks;
    uint32_t error_ppm;
};

struct CounterLimits {
    uint64_t modulus; // counter period in ticks: 65536 for the PIT, 2^32 for the LAPIC timer
    bool counts_down;
    uint32_t target_ppm; // good_enough() once the bound is this tight...
    uint64_t min_ticks; // ...and the chosen samples at least this many ticks apart
    uint32_t accept_ppm; // result() is an error if the best bound is worse
};

class CounterRateEstimator {
public:
    explicit CounterRateEstimator(const CounterLimits& limits)
        : m_limits(limits)
    {
    }

    // Samples must come in the order they were taken.
    void add(const CounterSample& sample);

    bool good_enough() const;
    // Counter ticks from the start sample to the latest sample: the caller's deadline.
    uint64_t ticks_elapsed() const { return m_have_start ? m_position - m_start.position : 0; }
    ErrorOr<CounterRate> result() const;

    size_t samples() const { return m_samples; }
    size_t restarts() const { return m_restarts; }

    // Reads taken back to back before the first estimate; the narrowest is the start.
    static constexpr size_t start_phase_samples = 16;
    // Before a rate is known a gap this many times the smallest one may hide a
    // wrap of the counter, so the estimate starts over after it. That is cheap
    // (16 reads) and happens about once a boot under QEMU TCG, whose first
    // run of a code path is slow (translation).
    static constexpr uint64_t suspicious_gap_factor = 64;
    // Once the bound is this tight, the rate predicts the ticks across a long
    // gap well enough to count the wraps in it.
    static constexpr uint32_t unwrap_ppm = 10000;

private:
    struct Point {
        uint64_t midpoint; // TSC
        uint64_t width; // TSC cycles of the bracket
        uint64_t position; // counter ticks since the (re)start, wraps unfolded
    };

    void restart_at(const CounterSample& sample);
    bool unfold(const CounterSample& sample, uint64_t& position) const;
    uint32_t error_ppm(const Point& end) const;

    CounterLimits m_limits;
    size_t m_samples { 0 };
    size_t m_restarts { 0 };
    bool m_ever_moved { false };
    bool m_have_previous { false };
    CounterSample m_previous {};
    uint64_t m_previous_midpoint { 0 };
    uint64_t m_position { 0 };
    uint64_t m_smallest_gap { 0 };
    size_t m_phase_samples { 0 };
    bool m_have_start { false };
    Point m_start {};
    bool m_have_end { false };
    Point m_end {};
    uint32_t m_end_ppm { 0 };
};

} // namespace tessera::arch
