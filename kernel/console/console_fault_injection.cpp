#include <kernel/console/console.h>
#include <kernel/console/console_fault_injection.h>

namespace tessera {

void console_inject_recursive_lock()
{
    // Without the check in console.cpp this spins on the lock with
    // interrupts off: the run goes silent instead of reporting the bug.
    console_call_under_lock([] { console_print("    # printing while holding the console lock\n"); });
}

} // namespace tessera
