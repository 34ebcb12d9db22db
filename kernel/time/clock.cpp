#include <arch/cpu.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {
constinit uint64_t s_tsc_hz = 0;
constinit uint64_t s_tsc_at_boot = 0;
} // namespace

void clock_set_tsc_frequency(uint64_t tsc_hz, uint64_t boot_tsc)
{
    s_tsc_at_boot = boot_tsc;
    s_tsc_hz = tsc_hz;
}

uint64_t tsc_frequency() { return s_tsc_hz; }
uint64_t tsc_at_boot() { return s_tsc_at_boot; }

uint64_t tsc_to_ns(uint64_t cycles)
{
    if (s_tsc_hz == 0)
        return 0;
    return static_cast<uint64_t>(static_cast<unsigned __int128>(cycles) * ns_per_second / s_tsc_hz);
}

uint64_t uptime_ns()
{
    if (s_tsc_hz == 0)
        return 0;
    return tsc_to_ns(arch::read_tsc() - s_tsc_at_boot);
}

} // namespace tessera
