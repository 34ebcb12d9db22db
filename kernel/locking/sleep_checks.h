#pragma once
// Checks that a thread may block here. A thread that sleeps or switches
// away while holding a spinlock leaves the lock taken (and its CPU's rank
// set wrong) until it runs again, and every other CPU wanting the lock
// spins that long; a sleeping lock taken with interrupts off would block
// with them off. These turn both into a panic at the call that did it.
// The held-rank part needs CONFIG_LOCK_RANK_CHECKS (without it nothing is
// recorded and it passes).

namespace tessera {

// Panics with "`operation` while holding spinlock <rank>" if this CPU holds any spinlock.
void verify_no_spinlock_held(const char* operation);
// verify_no_spinlock_held(), and panics if interrupts are disabled.
void verify_may_sleep(const char* operation);

} // namespace tessera
