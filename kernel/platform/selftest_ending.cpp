// How a run ends, on the machine. Without injection: the ending is still
// undecided while tests run. With tessera.inject=panic-race (a negative
// control, tools/check.py "control-panic-race"): CPU 1 panics, and CPU 0,
// once it sees the panic under way, asks for a success exit. The run must
// end with the panic's status (37), never success (33).
#include <arch/cpu.h>
#include <arch/per_cpu.h>
#include <kernel/boot/boot.h>
#include <kernel/console/panic.h>
#include <kernel/platform/ending.h>
#include <kernel/platform/exit.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/selftest.h>

namespace tessera {

namespace {

void panic_on_this_cpu(void*) { panic("planted: CPU %u panics while CPU 0 exits", arch::this_cpu_local().index); }

// Interrupts off so only the panic's NMI can stop this CPU: the exit below
// runs whenever the NMI is slower than this loop.
void exit_once_the_panic_began(void*)
{
    arch::disable_interrupts();
    while (!ending_panic_in_progress())
        arch::relax();
    platform_exit(ExitCode::Success);
}

void panic_beats_a_concurrent_exit()
{
    KEXPECT(!ending_panic_in_progress());
    if (node_config().inject != FaultInjection::PanicRace)
        return;
    if (arch::cpu_count() < 2) {
        selftest_fail(__FILE__, __LINE__, "tessera.inject=panic-race needs two CPUs");
        return;
    }
    // Pinned, so the spinning exit never starves the panicking thread.
    auto exiting = KMUST(Thread::try_create("race-exit", exit_once_the_panic_began, nullptr, 0));
    (void)KMUST(Thread::try_create("race-panic", panic_on_this_cpu, nullptr, 1));
    exiting->join(); // never returns: the run ends
}

} // namespace

SELFTEST_SUITE(platform_ending, CONFIG_PLATFORM_SELFTEST, SELFTEST_CASE(panic_beats_a_concurrent_exit));

} // namespace tessera
