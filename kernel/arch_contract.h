#pragma once
// What generic kernel code needs from an architecture, checked at compile
// time (arch/README.md). Each arch provides <arch/cpu.h>, <arch/per_cpu.h>,
// <arch/context.h>, <arch/paging.h> and <arch/smp.h>; a missing or changed
// function fails here, with the name of the broken requirement, instead of
// at some distant call site.

#include <arch/context.h>
#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/per_cpu.h>
#include <arch/smp.h>
#include <kernel/cpu_local.h>
#include <kernel/lib/kstd.h>

namespace tessera::contract {

template<typename Function, typename Signature>
concept has_signature = kstd::is_same_v<Function, Signature>;

// Interrupt state and idling, as the scheduler and spinlocks use them.
static_assert(has_signature<decltype(&arch::save_and_disable_interrupts), bool (*)()>);
static_assert(has_signature<decltype(&arch::restore_interrupts), void (*)(bool)>);
static_assert(has_signature<decltype(&arch::enable_interrupts_and_halt), void (*)()>);
static_assert(has_signature<decltype(&arch::relax), void (*)()>);
static_assert(has_signature<decltype(&arch::read_tsc), uint64_t (*)()>);

// Per-CPU data: the arch embeds the generic CpuLocal (kernel/cpu_local.h)
// in its own per-CPU block; the scheduler and lock checks reach only that.
// current_thread_pointer() must read CpuLocal::current_thread in one
// instruction (a migration between two loads would read another CPU's).
static_assert(has_signature<decltype(&arch::this_cpu_local), CpuLocal& (*)()>);
static_assert(has_signature<decltype(&arch::cpu_local_at), CpuLocal& (*)(size_t)>);
static_assert(has_signature<decltype(&arch::current_thread_pointer), Thread* (*)()>);
static_assert(has_signature<decltype(&arch::current_cpu_index), uint32_t (*)()>);
static_assert(has_signature<decltype(&arch::cpu_count), size_t (*)()>);
static_assert(has_signature<decltype(&arch::send_reschedule_ipi), void (*)(uint32_t)>);

// Thread contexts: the scheduler never sees the register frame or the TSS.
static_assert(has_signature<decltype(&arch::prepare_initial_context), uint64_t (*)(uint64_t, void (*)())>);
static_assert(has_signature<decltype(&arch::switch_context), void (*)(uint64_t*, uint64_t, kstd::atomic<bool>*)>);
static_assert(has_signature<decltype(&arch::set_kernel_stack_top), void (*)(uint64_t)>);

// Kernel memory: the allocators and stacks map through these.
static_assert(has_signature<decltype(&arch::physical_to_virtual), void* (*)(uint64_t)>);
static_assert(has_signature<decltype(&arch::virtual_to_physical), uint64_t (*)(const void*)>);
static_assert(has_signature<decltype(&arch::map_page), ErrorOr<void> (*)(uint64_t, uint64_t, arch::PageAttributes)>);
static_assert(has_signature<decltype(&arch::is_mapped), bool (*)(uint64_t)>);
static_assert(has_signature<decltype(&arch::is_kernel_address), bool (*)(uint64_t)>);
static_assert(kstd::is_same_v<decltype(arch::kernel_address_space_base), const uint64_t>);

} // namespace tessera::contract
