#pragma once
// Kernel stacks live in their own virtual region, each with an unmapped
// guard page below it, so an overflow faults (and the double-fault handler,
// on its own IST stack, reports it) instead of corrupting a neighbour.

#include <kernel/lib/error_or.h>

namespace tessera {

constexpr size_t kernel_stack_size = 16 * 1024;

struct KernelStack {
    uint64_t bottom; // lowest mapped byte; the guard page is just below
    uint64_t top; // initial stack pointer
    uint32_t slot;
};

ErrorOr<KernelStack> kernel_stack_allocate();
// Stacks are recycled with their pages mapped: unmapping would need a TLB
// shootdown on every CPU that ever ran on them.
void kernel_stack_free(const KernelStack& stack);
uint64_t kernel_stack_guard_page(const KernelStack& stack);

} // namespace tessera
