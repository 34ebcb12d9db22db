#include <arch/cpu.h>
#include <arch/per_cpu.h>
#include <kernel/console/console.h>
#include <kernel/memory/kernel_heap.h>
#include <kernel/memory/physical.h>
#include <kernel/node.h>
#include <kernel/platform/exit.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/selftest.h>
#include <kernel/shell/shell.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

void print_summary(const NodeConfig& config)
{
    auto memory = physical_memory_stats();
    size_t online = 0;
    for (size_t i = 0; i < arch::cpu_count(); ++i)
        online += arch::cpu_local_at(i).online.load(kstd::memory_order_acquire) ? 1 : 0;
    if (online == arch::cpu_count())
        infoln("cpus: %zu online", online);
    else
        warnln("cpus: %zu online, %zu failed to start", online, arch::cpu_count() - online);
    infoln("memory: %llu MiB usable, %llu MiB free, highest address %#llx",
        static_cast<unsigned long long>(memory.total_pages * 4096 >> 20),
        static_cast<unsigned long long>(memory.free_pages * 4096 >> 20),
        static_cast<unsigned long long>(memory.highest_address));
    infoln("tsc: %llu.%03llu MHz", static_cast<unsigned long long>(tsc_frequency() / 1000000),
        static_cast<unsigned long long>(tsc_frequency() / 1000 % 1000));
    char summary[256];
    format_node_config(config, summary, sizeof(summary));
    infoln("config: %s", summary);
}

} // namespace

void node_run(const NodeConfig& config)
{
    print_summary(config);
    switch (config.mode) {
    case BootMode::BootBench: {
        // Boot-time benchmark: cycles since reset, and the TSC rate to read them.
        console_print("TESSERA READY tsc=%llu tsc_hz=%llu\n", static_cast<unsigned long long>(arch::read_tsc()),
            static_cast<unsigned long long>(tsc_frequency()));
        platform_exit(ExitCode::Success);
    }
    case BootMode::Ready:
        // The monitors started at their init level and serve from their own
        // threads; this one only idles.
        console_print("TESSERA: SERVING node=%u\n", static_cast<unsigned>(config.node_id));
        for (;;)
            sleep_ms(1000);
    case BootMode::Selftest: {
        bool passed = run_selftests(config);
        platform_exit(passed ? ExitCode::Success : ExitCode::TestFailure);
    }
    case BootMode::Shell:
        break;
    }
    shell_run();
}

} // namespace tessera
