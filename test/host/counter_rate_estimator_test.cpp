#include <arch/x86_64/lib/counter_rate_estimator.h>
#include <cmath>
#include <cstdint>
#include <gtest/gtest.h>
#include <random>
#include <vector>

using namespace tessera;
using namespace tessera::arch;

namespace {

constexpr double tsc_hz = 2596000000.0;
constexpr double pit_hz = 1193182.0;

constexpr CounterLimits pit_limits { 65536, true, 500, 1193, 5000 };

// A machine whose TSC and PIT both run at their true rates from time 0; the
// PIT counts down from `start` with period 65536. A read is taken with its
// bracket [before_s, after_s] and the counter latched at latch_s inside it.
struct Machine {
    uint32_t start = 0x1234;

    uint64_t tsc(double seconds) const { return static_cast<uint64_t>(seconds * tsc_hz); }
    uint32_t pit(double seconds) const
    {
        auto ticks = static_cast<uint64_t>(std::floor(seconds * pit_hz));
        return static_cast<uint32_t>((start + 65536 - ticks % 65536) % 65536);
    }
    CounterSample read(double before_s, double latch_s, double after_s) const
    {
        return { tsc(before_s), tsc(after_s), pit(latch_s) };
    }
};

double measured_tsc_hz(const CounterRate& rate)
{
    return static_cast<double>(rate.tsc_cycles) * pit_hz / static_cast<double>(rate.counter_ticks);
}

double error_ppm(double measured) { return std::fabs(measured - tsc_hz) / tsc_hz * 1e6; }

// Reads every `every_s` seconds from `from_s` to `to_s`, each with a bracket
// of `width_s` and the latch in its middle.
void read_steadily(CounterRateEstimator& estimator, const Machine& machine, double from_s, double to_s,
    double every_s = 2e-6, double width_s = 0.5e-6)
{
    for (double t = from_s; t < to_s; t += every_s)
        estimator.add(machine.read(t, t + width_s / 2, t + width_s));
}

} // namespace

TEST(CounterRateEstimator, QuietMachineWithinTheBound)
{
    Machine machine;
    CounterRateEstimator estimator(pit_limits);
    read_steadily(estimator, machine, 0.001, 0.011);
    ASSERT_TRUE(estimator.good_enough());
    auto rate = estimator.result();
    ASSERT_FALSE(rate.is_error());
    EXPECT_LE(rate.value().error_ppm, 500u);
    EXPECT_LE(error_ppm(measured_tsc_hz(rate.value())), rate.value().error_ppm);
    EXPECT_EQ(estimator.restarts(), 0u);
}

TEST(CounterRateEstimator, GoodEnoughNeedsTheMinimumSpan)
{
    Machine machine;
    CounterRateEstimator estimator({ 65536, true, 500, 1193, 5000 });
    // 0.5 ms: the bound is fine (1 tick in 600) but the span is short of 1 ms.
    read_steadily(estimator, machine, 0.001, 0.0015, 2e-6, 0.05e-6);
    EXPECT_FALSE(estimator.good_enough());
    read_steadily(estimator, machine, 0.0015, 0.003, 2e-6, 0.05e-6);
    EXPECT_TRUE(estimator.good_enough());
}

TEST(CounterRateEstimator, UnfoldsTheSixteenBitWrap)
{
    // 200 ms of reads: the PIT's 55 ms period wraps three or four times.
    Machine machine;
    machine.start = 10; // wraps almost at once
    CounterRateEstimator estimator(pit_limits);
    read_steadily(estimator, machine, 0.0, 0.2, 20e-6);
    auto rate = estimator.result();
    ASSERT_FALSE(rate.is_error());
    EXPECT_GT(rate.value().counter_ticks, 3u * 65536);
    EXPECT_LE(error_ppm(measured_tsc_hz(rate.value())), rate.value().error_ppm);
    EXPECT_LT(rate.value().error_ppm, 20u);
}

TEST(CounterRateEstimator, CountsTheWrapsInALongGapOnceTheRateIsKnown)
{
    // The vCPU is away for 300 ms (five periods and a bit) between two reads.
    Machine machine;
    CounterRateEstimator estimator(pit_limits);
    read_steadily(estimator, machine, 0.001, 0.004);
    read_steadily(estimator, machine, 0.304, 0.306);
    auto rate = estimator.result();
    ASSERT_FALSE(rate.is_error());
    EXPECT_GT(rate.value().counter_ticks, 5u * 65536);
    EXPECT_LE(error_ppm(measured_tsc_hz(rate.value())), rate.value().error_ppm);
    EXPECT_EQ(estimator.restarts(), 0u);
}

TEST(CounterRateEstimator, RestartsAfterAGapBeforeTheRateIsKnown)
{
    // A 60 ms gap after three reads: a wrap may hide in it and nothing yet
    // says how fast the counter runs, so the estimate starts over after it.
    Machine machine;
    CounterRateEstimator estimator(pit_limits);
    read_steadily(estimator, machine, 0.001, 0.001006);
    read_steadily(estimator, machine, 0.061006, 0.071);
    EXPECT_EQ(estimator.restarts(), 1u);
    auto rate = estimator.result();
    ASSERT_FALSE(rate.is_error());
    EXPECT_LE(error_ppm(measured_tsc_hz(rate.value())), rate.value().error_ppm);
    EXPECT_LE(rate.value().error_ppm, 500u);
}

// What QEMU TCG on a busy host does: now and then the vCPU stops mid-read
// for milliseconds and the counter is latched at the end of that.
std::vector<CounterSample> late_reads(const Machine& machine)
{
    std::vector<CounterSample> reads;
    double t = 0.001;
    for (int i = 0; i < 6000; ++i) {
        if (i % 500 == 0 || i == 5999) {
            reads.push_back(machine.read(t, t + 4e-3, t + 4.0005e-3)); // 4 ms away, latched late
            t += 4.0005e-3;
        } else {
            reads.push_back(machine.read(t, t + 0.25e-6, t + 0.5e-6));
            t += 2e-6;
        }
    }
    return reads;
}

TEST(CounterRateEstimator, LateReadsAreNotChosen)
{
    Machine machine;
    auto reads = late_reads(machine);
    CounterRateEstimator estimator(pit_limits);
    for (const auto& read : reads)
        estimator.add(read);
    auto rate = estimator.result();
    ASSERT_FALSE(rate.is_error());
    EXPECT_LE(rate.value().error_ppm, 500u);
    EXPECT_LE(error_ppm(measured_tsc_hz(rate.value())), rate.value().error_ppm);
}

TEST(CounterRateEstimator, LateReadsMisleadANaiveEstimate)
{
    // The planted failure the test above must catch: first and last read
    // taken at face value, as waiting for an event does.
    Machine machine;
    auto reads = late_reads(machine);
    const CounterSample& first = reads.front();
    const CounterSample& last = reads.back();
    double cycles = static_cast<double>(last.tsc_before - first.tsc_before);
    double ticks = static_cast<double>((first.count + 65536 * 100 - last.count) % 65536);
    double naive = cycles * pit_hz / ticks;
    EXPECT_GT(error_ppm(naive), 10000.0);
}

TEST(CounterRateEstimator, AllReadsTooUncertainIsAnError)
{
    // Every read spans 5 ms: no pair pins the rate to 0.5%.
    Machine machine;
    CounterRateEstimator estimator(pit_limits);
    for (double t = 0.0; t < 0.2; t += 6e-3)
        estimator.add(machine.read(t, t + 2.5e-3, t + 5e-3));
    EXPECT_FALSE(estimator.good_enough());
    auto rate = estimator.result();
    ASSERT_TRUE(rate.is_error());
    EXPECT_EQ(rate.error().code(), Errno::RANGE);
}

TEST(CounterRateEstimator, ACounterThatNeverMovesIsNoCounter)
{
    // No PIT: the bus floats, every read is 0xffff.
    CounterRateEstimator estimator(pit_limits);
    for (uint64_t tsc = 1000; tsc < 100000000; tsc += 5000)
        estimator.add({ tsc, tsc + 1000, 0xffff });
    EXPECT_FALSE(estimator.good_enough());
    EXPECT_EQ(estimator.ticks_elapsed(), 0u);
    auto rate = estimator.result();
    ASSERT_TRUE(rate.is_error());
    EXPECT_EQ(rate.error().code(), Errno::NODEV);
}

TEST(CounterRateEstimator, TooFewReadsIsAnError)
{
    Machine machine;
    CounterRateEstimator estimator(pit_limits);
    estimator.add(machine.read(0.001, 0.001, 0.001001));
    estimator.add(machine.read(0.002, 0.002, 0.002001));
    auto rate = estimator.result();
    ASSERT_TRUE(rate.is_error());
    EXPECT_EQ(rate.error().code(), Errno::TIMEDOUT);
}

TEST(CounterRateEstimator, IgnoresABracketThatRunsBackwards)
{
    Machine machine;
    CounterRateEstimator estimator(pit_limits);
    read_steadily(estimator, machine, 0.001, 0.003);
    estimator.add({ machine.tsc(0.0031), machine.tsc(0.0030), machine.pit(0.0099) }); // forged
    read_steadily(estimator, machine, 0.0032, 0.006);
    auto rate = estimator.result();
    ASSERT_FALSE(rate.is_error());
    EXPECT_LE(error_ppm(measured_tsc_hz(rate.value())), rate.value().error_ppm);
}

TEST(CounterRateEstimator, LapicTimerThirtyTwoBitsDown)
{
    // The LAPIC timer after the /16 divider: 62.5 MHz from 0xffffffff.
    constexpr double lapic_hz = 62500000.0;
    CounterRateEstimator estimator({ 1ull << 32, true, 500, 1000, 5000 });
    for (double t = 0.0; t < 0.002; t += 3e-6) {
        double latch = t + 0.3e-6;
        auto count = static_cast<uint32_t>(0xffffffffu - static_cast<uint64_t>(latch * lapic_hz));
        estimator.add({ static_cast<uint64_t>(t * tsc_hz), static_cast<uint64_t>((t + 0.6e-6) * tsc_hz), count });
    }
    ASSERT_TRUE(estimator.good_enough());
    auto rate = estimator.result();
    ASSERT_FALSE(rate.is_error());
    double measured
        = static_cast<double>(rate.value().counter_ticks) * tsc_hz / static_cast<double>(rate.value().tsc_cycles);
    EXPECT_LE(std::fabs(measured - lapic_hz) / lapic_hz * 1e6, rate.value().error_ppm);
}

TEST(CounterRateEstimator, UpCounter)
{
    // An up-counting 24-bit counter (the ACPI PM timer's shape).
    constexpr double pm_hz = 3579545.0;
    CounterRateEstimator estimator({ 1ull << 24, false, 500, 1000, 5000 });
    for (double t = 4.6; t < 4.61; t += 2e-6) { // wraps (every 4.69 s) in the middle
        auto count = static_cast<uint32_t>(static_cast<uint64_t>((t + 0.2e-6) * pm_hz) % (1u << 24));
        estimator.add({ static_cast<uint64_t>(t * tsc_hz), static_cast<uint64_t>((t + 0.4e-6) * tsc_hz), count });
    }
    auto rate = estimator.result();
    ASSERT_FALSE(rate.is_error());
    double measured
        = static_cast<double>(rate.value().tsc_cycles) * pm_hz / static_cast<double>(rate.value().counter_ticks);
    EXPECT_LE(error_ppm(measured), rate.value().error_ppm);
}

TEST(CounterRateEstimator, TheBoundHoldsForRandomHiccups)
{
    // Random bracket widths, latch instants anywhere in the bracket, random
    // stalls between reads (up to 80 ms, so across wraps): the true rate is
    // always within the stated bound.
    std::mt19937_64 random(42);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (int run = 0; run < 200; ++run) {
        Machine machine;
        machine.start = static_cast<uint32_t>(random() % 65536);
        CounterRateEstimator estimator(pit_limits);
        double t = 0.001;
        for (int i = 0; i < 4000; ++i) {
            double width = unit(random) < 0.05 ? unit(random) * 3e-3 : (0.2 + unit(random)) * 1e-6;
            estimator.add(machine.read(t, t + unit(random) * width, t + width));
            t += width + (unit(random) < 0.002 ? unit(random) * 80e-3 : 1e-6);
        }
        auto rate = estimator.result();
        ASSERT_FALSE(rate.is_error()) << "run " << run;
        EXPECT_LE(error_ppm(measured_tsc_hz(rate.value())), rate.value().error_ppm) << "run " << run;
    }
}
