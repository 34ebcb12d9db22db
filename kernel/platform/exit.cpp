#include <arch/cpu.h>
#include <kernel/console/console.h>
#include <kernel/platform/ending.h>
#include <kernel/platform/exit.h>

namespace tessera {

namespace {

constexpr size_t max_exit_hooks = 4;
// Registered at the early init level, before a second CPU runs; read at exit.
constinit kstd::atomic<ExitHook> s_hooks[max_exit_hooks] {};
constinit kstd::atomic<size_t> s_hook_count { 0 };

[[noreturn]] void halt_forever()
{
    arch::disable_interrupts();
    for (;;)
        arch::halt();
}

void call_hooks(ExitCode code)
{
    size_t count = s_hook_count.load(kstd::memory_order_acquire);
    for (size_t i = 0; i < count && i < max_exit_hooks; ++i) {
        ExitHook hook = s_hooks[i].load(kstd::memory_order_acquire);
        if (hook != nullptr)
            hook(code);
    }
}

} // namespace

void platform_register_exit_hook(ExitHook hook)
{
    size_t slot = s_hook_count.fetch_add(1, kstd::memory_order_acq_rel);
    if (slot >= max_exit_hooks) {
        warnln("platform: too many exit hooks; one ignored");
        return;
    }
    s_hooks[slot].store(hook, kstd::memory_order_release);
}

void platform_exit(ExitCode code)
{
    // A panic (or an earlier exit) owns the ending: it reports the verdict.
    if (!ending_claim_exit())
        halt_forever();
    console_flush();
    arch::disable_interrupts();
    // A panic that began while the console drained wins: it is reporting.
    if (!ending_commit_exit())
        halt_forever();
    call_hooks(code);
    halt_forever();
}

void platform_exit_after_panic()
{
    arch::disable_interrupts();
    call_hooks(ExitCode::Panic);
    halt_forever();
}

} // namespace tessera
