// kernel_main: the boot sequence, in dependency order. Each step either
// works or stops the boot with a message that says why.
#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/paging.h>
#include <arch/per_cpu.h>
#include <arch/smp.h>
#include <drivers/acpi/acpi.h>
#include <drivers/qemu/debug_exit.h>
#include <drivers/serial/serial.h>
#include <kernel/arch_contract.h>
#include <kernel/boot/boot.h>
#include <kernel/console/console.h>
#include <kernel/console/panic.h>
#include <kernel/debug/symbols.h>
#include <kernel/memory/kernel_heap.h>
#include <kernel/memory/physical.h>
#include <kernel/node.h>
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
constinit uint64_t s_lapic_timer_hz = 0;
constinit uint8_t s_apic_ids[madt_max_processors] {};

void timer_interrupt(arch::RegisterState&)
{
    Scheduler::timer_tick();
    arch::lapic_end_of_interrupt();
    Scheduler::preempt_if_needed();
}

void reschedule_interrupt(arch::RegisterState&)
{
    arch::this_cpu_local().need_reschedule = true;
    arch::lapic_end_of_interrupt();
    Scheduler::preempt_if_needed();
}

void spurious_interrupt(arch::RegisterState&) { }

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

// CPUs and interrupt controllers from ACPI; a machine without a usable MADT
// runs on the boot CPU with the architectural LAPIC address.
size_t bring_up_interrupts_and_cpus(const BootInfo& info, uint64_t boot_tsc)
{
    auto madt = acpi_read_madt(info.rsdp, info.rsdp_length);
    uint64_t lapic_address = 0xfee00000;
    if (madt.is_error())
        warnln("acpi: no usable MADT (%s); one CPU, no IOAPIC", errno_name(madt.error().code()));
    else
        lapic_address = madt.value().local_apic_address;

    arch::disable_legacy_pic();
    if (auto result = arch::lapic_initialize(lapic_address); result.is_error())
        panic("cannot map the local APIC");
    arch::lapic_enable_on_this_cpu();
    arch::this_cpu().apic_id = arch::lapic_id();
    auto calibration = arch::lapic_calibrate_timer();
    clock_set_tsc_frequency(calibration.tsc_hz, boot_tsc);
    s_lapic_timer_hz = calibration.lapic_timer_hz;

    arch::register_interrupt_handler(arch::vector::timer, timer_interrupt);
    arch::register_interrupt_handler(arch::vector::reschedule_ipi, reschedule_interrupt);
    arch::register_interrupt_handler(arch::vector::spurious, spurious_interrupt);

    if (madt.is_error())
        return 1;
    const MadtInfo& description = madt.value();
    arch::IoApicDescription ioapics[madt_max_io_apics];
    for (size_t i = 0; i < description.io_apic_count; ++i)
        ioapics[i] = { description.io_apics[i].id, description.io_apics[i].address, description.io_apics[i].gsi_base };
    arch::IrqOverride overrides[madt_max_overrides];
    size_t override_count = 0;
    for (size_t i = 0; i < description.override_count; ++i) {
        if (description.overrides[i].bus == 0)
            overrides[override_count++]
                = { description.overrides[i].source_irq, description.overrides[i].gsi, description.overrides[i].flags };
    }
    if (auto result = arch::ioapic_initialize(ioapics, description.io_apic_count, overrides, override_count);
        result.is_error())
        warnln("ioapic: %s", result.error().what());

    size_t count = 0;
    for (size_t i = 0; i < description.processor_count; ++i) {
        if (description.processors[i].enabled && description.processors[i].apic_id < 256)
            s_apic_ids[count++] = static_cast<uint8_t>(description.processors[i].apic_id);
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
    serial_initialize();
    run_global_constructors();
    arch::idt_initialize();
    arch::idt_install_on_this_cpu();
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

    size_t cpus_found = bring_up_interrupts_and_cpus(info, boot_tsc);
    KernelStack boot_stack { reinterpret_cast<uint64_t>(boot_stack_bottom), reinterpret_cast<uint64_t>(boot_stack_top),
        0 };
    Scheduler::initialize_on_boot_cpu(boot_stack);
    start_timer_on_this_cpu();
    arch::this_cpu_local().online.store(true);
    arch::enable_interrupts();
    if (cpus_found > 1)
        arch::smp_start_application_processors(s_apic_ids, cpus_found);
    node_run(config);
}

} // namespace tessera
