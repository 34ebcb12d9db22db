#pragma once
// Threads sleeping until a deadline, woken by the timer tick (so a deadline
// is met up to one tick late, never early).

#include <kernel/sched/thread.h>

namespace tessera {

class SleepQueue {
public:
    static void sleep_until(uint64_t deadline_ns);
    // Lists `thread` (the current thread, about to block) to be woken at
    // `deadline_ns`; a thread already listed moves to the new deadline.
    // The wake is Scheduler::wake(), so the caller must tolerate it arriving
    // before it has switched away, and wake-ups from elsewhere.
    static void add(Thread& thread, uint64_t deadline_ns);
    // Takes `thread` off the list if it is still there (it was woken by
    // something else before its deadline).
    static void remove(Thread& thread);
    static void wake_expired();
};

} // namespace tessera
