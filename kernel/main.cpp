// kernel_main: the boot sequence, in dependency order. Each step either
// works or stops the boot with a message that says why. Devices, firmware
// tables, the fabric and monitors are not named here: they register init
// functions (kernel/init/init.h) and run at their level.
#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/paging.h>
#include <arch/per_cpu.h>
#include <arch/smp.h>
#include <kernel/arch_contract.h>
#include <kernel/boot/boot.h>
#include <kernel/console/console.h>
#include <kernel/console/panic.h>
#include <kernel/debug/symbols.h>
#include <kernel/init/init.h>
#include <kernel/irq/irq.h>
#include <kernel/memory/kernel_heap.h>
#include <kernel/memory/physical.h>
#include <kernel/node.h>
#include <kernel/platform/machine.h>
#include <kernel/sched/scheduler.h>
#include <kernel/time/clock.h>

extern "C" {
extern char __kernel_start[], __kernel_end[];
extern char boot_stack_bottom[], boot_stack_top[];
}

namespace tessera {

void run_global_constructors(); // kernel/runtime/cxx.cpp

namespace {

constexpr uint32_t timer_frequency_hz = 100;
constexpr uint32_t max_xapic_id = 255; // xAPIC destinations are 8 bits; x2APIC is not used
constinit uint64_t s_lapic_timer_hz = 0;
constinit uint8_t s_apic_ids[machine_max_cpus] {};

// The IRQ layer sends EOI and preempts after each handler.
void timer_interrupt(void*) { Scheduler::timer_tick(); }
void reschedule_interrupt(void*) { arch::this_cpu_local().need_reschedule = true; }

void reserve_boot_ranges(
    const BootInfo& info, uint64_t info_physical, uint64_t info_size, PhysicalRange* reserved, size_t& count)
{
    reserved[count++]
        = { arch::virtual_to_physical(__kernel_start), static_cast<uint64_t>(__kernel_end - __kernel_start) };
    reserved[count++] = { info_physical, info_size };
    for (size_t i = 0; i < info.module_count; ++i)
        reserved[count++] = { info.modules[i].start, info.modules[i].end - info.modules[i].start };
}

void install_symbols(const BootInfo& info)
{
    for (size_t i = 0; i < info.module_count; ++i) {
        const BootModule& module = info.modules[i];
        if (!(module.name == "symbols"))
            continue;
        auto result = symbols_install(
            static_cast<const uint8_t*>(arch::physical_to_virtual(module.start)), module.end - module.start);
        if (result.is_error())
            warnln("symbols: module rejected (%s); backtraces will show addresses only",
                result.error().what() ? result.error().what() : errno_name(result.error().code()));
        return;
    }
    warnln("symbols: no \"symbols\" module; backtraces will show addresses only");
}

// The LAPIC timer and TSC rates, and the core's own vectors.
void start_time_keeping(uint64_t boot_tsc)
{
    auto calibration = arch::lapic_calibrate_timer();
    clock_set_tsc_frequency(calibration.tsc_hz, boot_tsc);
    s_lapic_timer_hz = calibration.lapic_timer_hz;
    MUST(irq_register_fixed(arch::vector::timer, "timer", timer_interrupt, nullptr));
    MUST(irq_register_fixed(arch::vector::reschedule_ipi, "reschedule", reschedule_interrupt, nullptr));
}

// The CPUs firmware described that we can start; the boot CPU counts too.
size_t startable_cpus()
{
    const MachineDescription& machine = machine_description();
    if (!machine.described)
        return 1;
    size_t count = 0;
    for (size_t i = 0; i < machine.cpu_count; ++i) {
        const MachineCpu& cpu = machine.cpus[i];
        if (!cpu.enabled)
            continue;
        if (cpu.apic_id > max_xapic_id) {
            warnln("smp: CPU with APIC id %u not started: xAPIC mode reaches ids up to %u only", cpu.apic_id,
                max_xapic_id);
            continue;
        }
        s_apic_ids[count++] = static_cast<uint8_t>(cpu.apic_id);
    }
    return count;
}

} // namespace

void start_timer_on_this_cpu() { arch::lapic_timer_start_periodic(s_lapic_timer_hz, timer_frequency_hz); }

// Runs on each AP before it enters its idle loop (arch/x86_64/smp.cpp).
void ap_main(uint32_t) { start_timer_on_this_cpu(); }

extern "C" [[noreturn]] void kernel_main(uint32_t magic, uint64_t info_physical)
{
    uint64_t boot_tsc = arch::read_tsc();
    arch::install_per_cpu(0, 0);
    run_global_constructors();
    arch::idt_initialize();
    arch::idt_install_on_this_cpu();
    // Console sinks, the exit hook and configuration sources.
    run_init_level(InitLevel::Early, 0);
    console_print("\nTessera: booting\n");

    uint64_t info_size = 0;
    const BootInfo& info = read_boot_info(magic, info_physical, info_size);
    NodeConfig config = read_node_config(info);
    console_set_log_level(config.log_level);

    if (!info.has_memory_map)
        refuse_boot("the boot loader gave no memory map");
    PhysicalRange reserved[2 + boot_info_max_modules];
    size_t reserved_count = 0;
    reserve_boot_ranges(info, info_physical, info_size, reserved, reserved_count);
    auto memory
        = physical_memory_initialize({ info.memory_regions, info.memory_region_count, reserved, reserved_count });
    if (memory.is_error())
        refuse_boot("no usable memory in the firmware's memory map (%s)", errno_name(memory.error().code()));
    auto stats = physical_memory_stats();
    if (stats.total_pages * page_size < minimum_memory_bytes)
        refuse_boot("Tessera needs at least %llu MiB of RAM; this machine has %llu MiB usable",
            static_cast<unsigned long long>(minimum_memory_bytes >> 20),
            static_cast<unsigned long long>(stats.total_pages * page_size >> 20));

    arch::smp_reserve_trampoline_page();
    arch::paging_initialize(stats.highest_address);
    kernel_heap_initialize();
    arch::gdt_install_on_this_cpu();
    arch::idt_use_interrupt_stacks();
    install_symbols(info);

    // Firmware tables, then the interrupt controllers they describe.
    run_init_level(InitLevel::Platform, config.roles);
    run_init_level(InitLevel::Interrupts, config.roles);
    start_time_keeping(boot_tsc);
    size_t cpus_found = startable_cpus();
    KernelStack boot_stack { reinterpret_cast<uint64_t>(boot_stack_bottom), reinterpret_cast<uint64_t>(boot_stack_top),
        0 };
    Scheduler::initialize_on_boot_cpu(boot_stack);
    start_timer_on_this_cpu();
    arch::this_cpu_local().online.store(true);
    run_init_level(InitLevel::Drivers, config.roles);
    arch::enable_interrupts();
    if (cpus_found > 1)
        arch::smp_start_application_processors(s_apic_ids, cpus_found);
    run_init_level(InitLevel::Fabric, config.roles);
    // Only a serving node starts its managers.
    if (config.mode == BootMode::Ready)
        run_init_level(InitLevel::Monitors, config.roles);
    run_init_level(InitLevel::Late, config.roles);
    node_run(config);
}

} // namespace tessera
