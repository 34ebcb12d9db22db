#pragma once
// What generic kernel code needs from an architecture, checked at compile
// time (STYLE.md item 4). Each arch provides <arch/cpu.h>, <arch/per_cpu.h>
// and <arch/paging.h>; a missing or changed function fails here, with the
// name of the broken requirement, instead of at some distant call site.

#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/per_cpu.h>
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

// Per-CPU data: the scheduler reads these fields on every switch.
// (clang-format 14 cannot lay out requires-expressions readably.)
// clang-format off
template<typename Cpu>
concept PerCpuData = requires(Cpu& cpu) {
    { cpu.index } -> kstd::convertible_to<uint32_t>;
    { cpu.current_thread } -> kstd::convertible_to<Thread*>;
    { cpu.idle_thread } -> kstd::convertible_to<Thread*>;
    { cpu.held_lock_ranks } -> kstd::convertible_to<uint32_t>;
    { cpu.need_reschedule } -> kstd::convertible_to<bool>;
    { cpu.timer_ticks } -> kstd::convertible_to<uint64_t>;
};
// clang-format on
static_assert(PerCpuData<arch::PerCpu>);
static_assert(has_signature<decltype(&arch::this_cpu), arch::PerCpu& (*)()>);
static_assert(has_signature<decltype(&arch::cpu_count), size_t (*)()>);

// Kernel memory: the allocators and stacks map through these.
static_assert(has_signature<decltype(&arch::physical_to_virtual), void* (*)(uint64_t)>);
static_assert(has_signature<decltype(&arch::virtual_to_physical), uint64_t (*)(const void*)>);
static_assert(has_signature<decltype(&arch::map_page), ErrorOr<void> (*)(uint64_t, uint64_t, arch::PageAttributes)>);
static_assert(has_signature<decltype(&arch::is_mapped), bool (*)(uint64_t)>);

} // namespace tessera::contract
