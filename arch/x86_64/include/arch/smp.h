#pragma once
// Bringing up the application processors found in the ACPI MADT.

#include <arch/per_cpu.h>
#include <kernel/lib/error_or.h>

namespace tessera::arch {

// Takes a page below 1 MiB for the AP start-up code; called right after the
// page allocator starts, before page tables use up low memory.
void smp_reserve_trampoline_page();

// Starts every CPU in `apic_ids` except this one; returns how many came
// online. Each AP runs `ap_main(cpu_index)` on its idle thread.
size_t smp_start_application_processors(const uint8_t* apic_ids, size_t count);

// Makes CPU `cpu_index` run its scheduler now (it may be halted in its idle loop).
void send_reschedule_ipi(uint32_t cpu_index);

} // namespace tessera::arch
