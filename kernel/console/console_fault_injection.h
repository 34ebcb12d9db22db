#pragma once
// Test-only (tessera.inject=console-recursion): shows that taking the console
// lock again on the CPU that holds it panics instead of spinning forever.

namespace tessera {

// Runs `callback` with the console lock held by this CPU, as a ring
// operation would; the callback must not return while a print is pending.
void console_call_under_lock(void (*callback)());

// Prints from under the console lock, as a sink or a ring operation that
// printed would. Must panic: `console: CPU N took the console lock it
// already holds`. Returns only if the recursion check is missing and the
// lock was somehow free, which the caller reports as a failure.
void console_inject_recursive_lock();

} // namespace tessera
