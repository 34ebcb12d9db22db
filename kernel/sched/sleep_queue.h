#pragma once
// Threads sleeping until a deadline, woken by the timer tick.

#include <kernel/sched/thread.h>

namespace tessera {

class SleepQueue {
public:
    static void sleep_until(uint64_t deadline_ns);
    static void wake_expired();
};

} // namespace tessera
