#pragma once
// A preemptive round-robin scheduler: one run queue shared by every CPU
// (threads may be pinned to one CPU), a per-CPU idle thread that halts,
// and a timer tick that preempts a thread after its time slice.

#include <kernel/lib/kstd.h>
#include <kernel/sched/thread.h>

namespace tessera {

class Scheduler {
public:
    // Turns the boot code into the "boot" thread and creates the BSP's idle thread.
    static void initialize_on_boot_cpu(KernelStack boot_stack);
    // Called by an AP on its idle thread's stack; never returns.
    [[noreturn]] static void run_idle_on_this_cpu(Thread& idle);
    static ErrorOr<Thread*> create_idle_thread(uint32_t cpu_index);

    // Gives up the CPU if something else is runnable.
    static void yield();
    // Picks the next thread and switches to it; the current thread is put
    // back on the run queue only if it is still Running.
    static void schedule();
    // Marks the current thread blocked; the caller calls schedule() after
    // dropping its own lock. Called with the waiter's queue lock held.
    static void block_current();
    // Ends the current thread: it becomes Dead and is never scheduled again.
    [[noreturn]] static void exit_current();
    // Blocked -> Runnable and queued; no effect on a thread in any other state.
    static void wake(Thread& thread);
    static void make_runnable(Thread& thread);
    // Called from the timer interrupt on every CPU.
    static void timer_tick();
    static void preempt_if_needed();

    // Test hook: while set (non-zero), every exiting thread spins with
    // interrupts off, after it is handed to the reaper and before it
    // switches away, until the hook is cleared or `bound_ns` has passed, so
    // a test can check that the reaper waits for the switch.
    static void set_exit_hold_for_test(uint64_t bound_ns);

    static bool is_running() { return s_running.load(kstd::memory_order_acquire); }
    static uint64_t context_switches();

private:
    [[noreturn]] static void idle_loop();
    static kstd::atomic<bool> s_running;
};

} // namespace tessera
