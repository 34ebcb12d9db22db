// Init levels: every level ran once, in order, before the selftests; the
// linker kept the section sorted by level; the monitors level did not run
// (selftest mode does not serve); failures are reported by name and stop
// the level only when fatal.
#include <kernel/init/init.h>
#include <kernel/selftest/selftest.h>

extern "C" {
extern const tessera::InitFunction __start_kinit[];
extern const tessera::InitFunction __stop_kinit[];
}

namespace tessera {

namespace {

// Written by the boot CPU while the levels run, read by the tests after.
constinit InitLevel s_seen[16] {};
constinit size_t s_seen_count = 0;

template<InitLevel level>
ErrorOr<void> record()
{
    if (s_seen_count < sizeof(s_seen) / sizeof(s_seen[0]))
        s_seen[s_seen_count++] = level;
    return {};
}

constexpr InitLevel expected_levels[] = { InitLevel::Early, InitLevel::Platform, InitLevel::Interrupts,
    InitLevel::Drivers, InitLevel::Fabric, InitLevel::Late };

void levels_ran_in_order()
{
    KEXPECT_EQ(s_seen_count, sizeof(expected_levels) / sizeof(expected_levels[0]));
    for (size_t i = 0; i < s_seen_count && i < sizeof(expected_levels) / sizeof(expected_levels[0]); ++i)
        KEXPECT_EQ(static_cast<int>(s_seen[i]), static_cast<int>(expected_levels[i]));
    InitLevel completed[init_level_count] {};
    size_t count = init_levels_completed(completed, init_level_count);
    KEXPECT_EQ(count, sizeof(expected_levels) / sizeof(expected_levels[0]));
    for (size_t i = 0; i < count && i < sizeof(expected_levels) / sizeof(expected_levels[0]); ++i)
        KEXPECT_EQ(static_cast<int>(completed[i]), static_cast<int>(expected_levels[i]));
}

void section_is_sorted_by_level()
{
    size_t records = static_cast<size_t>(__stop_kinit - __start_kinit);
    KEXPECT(records >= 7); // ours alone
    for (const InitFunction* function = __start_kinit; function != __stop_kinit; ++function) {
        KEXPECT(function->name != nullptr);
        KEXPECT(function->function != nullptr);
        KEXPECT(static_cast<size_t>(function->level) < init_level_count);
        if (function != __start_kinit)
            KEXPECT(static_cast<int>(function[-1].level) <= static_cast<int>(function->level));
    }
}

ErrorOr<void> succeed() { return {}; }
ErrorOr<void> fail_busy() { return Error(Errno::BUSY, "planted failure"); }

constinit const InitFunction* s_reported[4] {};
constinit size_t s_reported_count = 0;
void remember(const InitFunction& function, const Error&)
{
    if (s_reported_count < 4)
        s_reported[s_reported_count++] = &function;
}

void failures_are_reported_and_fatal_ones_stop_the_level()
{
    const InitFunction table[] = {
        { "first", succeed, InitLevel::Drivers, InitPolicy::Fatal, 0 },
        { "optional_failure", fail_busy, InitLevel::Drivers, InitPolicy::Optional, 0 },
        { "other_level", fail_busy, InitLevel::Late, InitPolicy::Fatal, 0 },
        { "fatal_failure", fail_busy, InitLevel::Drivers, InitPolicy::Fatal, 0 },
        { "never_runs", succeed, InitLevel::Drivers, InitPolicy::Fatal, 0 },
    };
    s_reported_count = 0;
    auto result = run_init_functions(table, table + 5, InitLevel::Drivers, 0, remember);
    KEXPECT_EQ(result.ran, 3u);
    KEXPECT_EQ(result.failed, 2u);
    KEXPECT(result.fatal == &table[3]);
    KEXPECT(result.fatal_error.code() == Errno::BUSY);
    KEXPECT_EQ(s_reported_count, 2u);
    KEXPECT(s_reported[0] == &table[1]);
}

} // namespace

INIT_FUNCTION(early, selftest_init_early, record<InitLevel::Early>, Fatal);
INIT_FUNCTION(platform, selftest_init_platform, record<InitLevel::Platform>, Fatal);
INIT_FUNCTION(interrupts, selftest_init_interrupts, record<InitLevel::Interrupts>, Fatal);
INIT_FUNCTION(drivers, selftest_init_drivers, record<InitLevel::Drivers>, Fatal);
INIT_FUNCTION(fabric, selftest_init_fabric, record<InitLevel::Fabric>, Fatal);
// Only a serving node (tessera.mode=ready) starts monitors.
MONITOR_FUNCTION(selftest_init_monitors, record<InitLevel::Monitors>, all_roles);
INIT_FUNCTION(late, selftest_init_late, record<InitLevel::Late>, Fatal);

SELFTEST_SUITE(init_levels, CONFIG_INIT_SELFTEST, SELFTEST_CASE(levels_ran_in_order),
    SELFTEST_CASE(section_is_sorted_by_level), SELFTEST_CASE(failures_are_reported_and_fatal_ones_stop_the_level));

} // namespace tessera
