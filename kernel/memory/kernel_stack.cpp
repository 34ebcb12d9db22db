#include <arch/paging.h>
#include <kernel/lib/bitmap.h>
#include <kernel/locking/spinlock.h>
#include <kernel/memory/kernel_stack.h>
#include <kernel/memory/physical.h>

namespace tessera {

namespace {

// Each slot: one guard page, then the stack.
constexpr uint64_t slot_size = kernel_stack_size + page_size;
constexpr size_t slot_count = KERNEL_STACKS_SIZE / slot_size < 4096 ? KERNEL_STACKS_SIZE / slot_size : 4096;

struct StackSlots {
    uint64_t in_use_words[slot_count / 64] {};
    uint64_t mapped_words[slot_count / 64] {};
};

SpinlockProtected<StackSlots, LockRank::KernelStacks> s_slots;

uint64_t slot_bottom(size_t slot) { return KERNEL_STACKS_BASE + slot * slot_size + page_size; }

// Maps whatever of the slot is not mapped yet, so a slot left half-mapped
// by an earlier out-of-memory failure is completed by the next attempt.
ErrorOr<void> map_slot(size_t slot)
{
    for (uint64_t offset = 0; offset < kernel_stack_size; offset += page_size) {
        uint64_t address = slot_bottom(slot) + offset;
        if (arch::is_mapped(address))
            continue;
        uint64_t physical = TRY(allocate_physical_page());
        auto result = arch::map_page(address, physical, { .writable = true, .executable = false });
        if (result.is_error()) {
            MUST(free_physical_page(physical));
            return result.release_error();
        }
    }
    return {};
}

} // namespace

ErrorOr<KernelStack> kernel_stack_allocate()
{
    bool needs_mapping = false;
    size_t slot = s_slots.with([&](StackSlots& slots) -> size_t {
        Bitmap in_use(slots.in_use_words, slot_count);
        Bitmap mapped(slots.mapped_words, slot_count);
        // Prefer a recycled slot whose pages are already mapped.
        size_t found = Bitmap::npos;
        for (size_t i = 0; i < slot_count; ++i) {
            if (mapped.get(i) && !in_use.get(i)) {
                found = i;
                break;
            }
        }
        if (found == Bitmap::npos) {
            found = in_use.find_first_clear(0);
            needs_mapping = true;
        }
        if (found != Bitmap::npos)
            in_use.set(found);
        return found;
    });
    if (slot == Bitmap::npos)
        return Error(Errno::NOMEM, "no free kernel stack slot");
    if (needs_mapping) {
        auto result = map_slot(slot);
        if (result.is_error()) {
            s_slots.with([&](StackSlots& slots) { Bitmap(slots.in_use_words, slot_count).clear(slot); });
            return result.release_error();
        }
        s_slots.with([&](StackSlots& slots) { Bitmap(slots.mapped_words, slot_count).set(slot); });
    }
    uint64_t bottom = slot_bottom(slot);
    return KernelStack { bottom, bottom + kernel_stack_size, static_cast<uint32_t>(slot) };
}

void kernel_stack_free(const KernelStack& stack)
{
    s_slots.with([&](StackSlots& slots) { Bitmap(slots.in_use_words, slot_count).clear(stack.slot); });
}

uint64_t kernel_stack_guard_page(const KernelStack& stack) { return stack.bottom - page_size; }

} // namespace tessera
