#include <arch/x86_64/lib/counter_rate_estimator.h>

namespace tessera::arch {

namespace {

// A bracket wider than this (minutes at any clock rate) is no bracket.
constexpr uint64_t widest_bracket = 1ull << 40;

uint64_t mul_div(uint64_t a, uint64_t b, uint64_t divisor)
{
    return static_cast<uint64_t>(static_cast<unsigned __int128>(a) * b / divisor);
}

// Rounded up: for bounds.
uint64_t mul_div_up(uint64_t a, uint64_t b, uint64_t divisor)
{
    return static_cast<uint64_t>((static_cast<unsigned __int128>(a) * b + divisor - 1) / divisor);
}

} // namespace

void CounterRateEstimator::restart_at(const CounterSample& sample)
{
    uint64_t width = sample.tsc_after - sample.tsc_before;
    m_have_previous = true;
    m_previous = sample;
    m_previous_midpoint = sample.tsc_before + width / 2;
    m_position = 0;
    m_smallest_gap = 0;
    m_phase_samples = 1;
    m_have_start = true;
    m_start = { m_previous_midpoint, width, 0 };
    m_have_end = false;
}

// The previous sample's position plus the ticks since it. The counter's
// difference is only known modulo its period; how many whole periods passed
// follows from the rate measured so far, or, before there is one, from the
// gap being as short as the reads before it (else the estimate starts over).
bool CounterRateEstimator::unfold(const CounterSample& sample, uint64_t& position) const
{
    uint64_t modulus = m_limits.modulus;
    uint64_t now = sample.count % modulus;
    uint64_t before = m_previous.count % modulus;
    uint64_t raw = m_limits.counts_down ? (before + modulus - now) % modulus : (now + modulus - before) % modulus;
    uint64_t midpoint = sample.tsc_before + (sample.tsc_after - sample.tsc_before) / 2;
    uint64_t gap = midpoint - m_previous_midpoint;

    if (m_have_end && m_end_ppm <= unwrap_ppm) {
        uint64_t predicted = mul_div(gap, m_end.position - m_start.position, m_end.midpoint - m_start.midpoint);
        uint64_t wraps = predicted > raw ? (predicted - raw + modulus / 2) / modulus : 0;
        uint64_t delta = raw + wraps * modulus;
        uint64_t residual = delta > predicted ? delta - predicted : predicted - delta;
        if (residual > modulus / 4)
            return false;
        position = m_position + delta;
        return true;
    }
    if (m_smallest_gap != 0 && gap > m_smallest_gap * suspicious_gap_factor)
        return false;
    position = m_position + raw;
    return true;
}

uint32_t CounterRateEstimator::error_ppm(const Point& end) const
{
    uint64_t cycles = end.midpoint - m_start.midpoint;
    uint64_t ticks = end.position - m_start.position;
    // Each midpoint is within half its bracket of the instant the counter was
    // read; each count is within one tick of the counter's true phase.
    uint64_t bracket_ppm = mul_div_up(m_start.width + end.width, 500000, cycles);
    uint64_t quantization_ppm = (1000000 + ticks - 1) / ticks;
    uint64_t total = bracket_ppm + quantization_ppm;
    return total > 0xffffffffu ? 0xffffffffu : static_cast<uint32_t>(total);
}

void CounterRateEstimator::add(const CounterSample& sample)
{
    ++m_samples;
    if (sample.tsc_after < sample.tsc_before || sample.tsc_after - sample.tsc_before > widest_bracket)
        return;
    if (!m_have_previous) {
        restart_at(sample);
        return;
    }
    uint64_t width = sample.tsc_after - sample.tsc_before;
    uint64_t midpoint = sample.tsc_before + width / 2;
    if (midpoint <= m_previous_midpoint)
        return; // out of order or a repeat: no information
    if (sample.count % m_limits.modulus != m_previous.count % m_limits.modulus)
        m_ever_moved = true;

    // Once the rate is known, a read whose bracket spans a good part of the
    // counter's period could be on either side of a wrap: skip it.
    if (m_have_end && m_end_ppm <= unwrap_ppm
        && mul_div(width, m_end.position - m_start.position, m_end.midpoint - m_start.midpoint) > m_limits.modulus / 8)
        return;

    uint64_t position = 0;
    if (!unfold(sample, position)) {
        ++m_restarts;
        restart_at(sample);
        return;
    }
    uint64_t gap = midpoint - m_previous_midpoint;
    if (m_smallest_gap == 0 || gap < m_smallest_gap)
        m_smallest_gap = gap;
    m_previous = sample;
    m_previous_midpoint = midpoint;
    m_position = position;

    Point point { midpoint, width, position };
    if (m_phase_samples < start_phase_samples) {
        ++m_phase_samples;
        if (width < m_start.width)
            m_start = point;
        return;
    }
    if (position <= m_start.position)
        return;
    uint32_t ppm = error_ppm(point);
    if (!m_have_end || ppm <= m_end_ppm) {
        m_end = point;
        m_end_ppm = ppm;
        m_have_end = true;
    }
}

bool CounterRateEstimator::good_enough() const
{
    return m_have_end && m_end_ppm <= m_limits.target_ppm && m_end.position - m_start.position >= m_limits.min_ticks;
}

ErrorOr<CounterRate> CounterRateEstimator::result() const
{
    if (!m_ever_moved)
        return Error(Errno::NODEV, "the counter never moved");
    if (!m_have_end)
        return Error(Errno::TIMEDOUT, "no two usable reads of the counter");
    if (m_end_ppm > m_limits.accept_ppm)
        return Error(Errno::RANGE, "every read of the counter was too uncertain");
    return CounterRate { m_end.midpoint - m_start.midpoint, m_end.position - m_start.position, m_end_ppm };
}

} // namespace tessera::arch
