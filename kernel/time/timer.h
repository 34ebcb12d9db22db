#pragma once
// Timers with callbacks, for retransmission, RPC timeouts and heartbeats.
// The owner embeds a Timer (arming links an intrusive node and never
// allocates) and may arm, re-arm and cancel it from any CPU, from threads,
// interrupt handlers and timer callbacks.
//
// Callbacks run in interrupt context, with interrupts off and no lock held,
// on the CPU whose scheduler tick finds them expired: they must not sleep,
// take a Mutex or wait; anything longer goes to a WorkQueue (DelayedWork).
// A timer fires at the first tick at or after its deadline (uptime_ns()),
// never before: the resolution is the scheduler tick, 10 ms today (100 Hz,
// kernel/main.cpp), later under QEMU's TCG when the host is loaded.
//
// One callback of a given timer runs at a time: if it expires again while
// its callback still runs on another CPU, it runs after that one returns.

#include <kernel/lib/intrusive_list.h>
#include <kernel/lib/kstd.h>

namespace tessera {

class Timer {
public:
    using Callback = void (*)(void* argument);

    Timer(Callback callback, void* argument)
        : m_callback(callback)
        , m_argument(argument)
    {
    }
    // The owner cancels it first.
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    // One-shot, `ns` from now (or at uptime `deadline_ns`). Arming an armed
    // timer moves its deadline; an armed periodic timer becomes one-shot.
    void arm_after(uint64_t ns);
    void arm_at(uint64_t deadline_ns);
    // Every `period_ns` from now, until cancelled. Deadlines do not drift
    // (each is the previous plus the period); periods missed while the CPUs
    // were busy are skipped rather than fired in a burst.
    void arm_periodic(uint64_t period_ns);

    // Disarms the timer. On return its callback is not running and will not
    // run again until the timer is re-armed, except when called from the
    // timer's own callback (a periodic timer stopping itself): then the
    // current run finishes and no further run follows. Waits for a callback
    // running on another CPU, so two callbacks must not cancel each other.
    // True if the timer was armed.
    bool cancel();

    bool is_armed() const;

    // Called by every CPU's scheduler tick: runs the callbacks now due.
    static void run_expired();

private:
    friend class TimerWheel;

    Callback m_callback;
    void* m_argument;
    // Everything below is protected by the timer wheel's lock.
    IntrusiveListNode m_node; // a wheel slot or the expired list
    uint64_t m_deadline_ns { 0 };
    uint64_t m_expiry_slot { 0 }; // m_deadline_ns in wheel slots, rounded up
    uint64_t m_period_ns { 0 }; // 0: one-shot
    uint16_t m_list { 0 }; // which list m_node is on, while linked
    // The CPU running the callback, or -1. Atomic because cancel() waits
    // for it to change without holding the lock.
    kstd::atomic<int32_t> m_running_cpu { -1 };
};

} // namespace tessera
