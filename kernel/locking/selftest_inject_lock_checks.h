#pragma once
// Faults that the may-sleep checks (kernel/locking/sleep_checks.h) must
// turn into a panic. Each ends the run; a fault-injection mode of the
// selftest harness calls one and the runner requires the panic line.

namespace tessera {

// Expected: "KERNEL PANIC: mutex acquired while holding spinlock Selftest ...".
[[noreturn]] void selftest_inject_mutex_under_spinlock();
// Expected: "KERNEL PANIC: schedule() while holding spinlock Selftest ...".
[[noreturn]] void selftest_inject_schedule_under_spinlock();
// Expected: "KERNEL PANIC: mutex acquired with interrupts disabled".
[[noreturn]] void selftest_inject_mutex_with_interrupts_disabled();

} // namespace tessera
