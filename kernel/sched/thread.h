#pragma once
// Kernel threads. A thread runs `entry(argument)` on its own guarded kernel
// stack; when entry returns the thread is dead and join() reclaims it.

#include <kernel/lib/error_or.h>
#include <kernel/lib/intrusive_list.h>
#include <kernel/memory/kernel_stack.h>

namespace tessera {

// First C++ code of every new thread (called by thread_trampoline).
extern "C" [[noreturn]] void thread_start();

class Thread {
public:
    using Entry = void (*)(void* argument);
    enum class State : uint8_t { Runnable, Running, Blocked, Dead };
    static constexpr int any_cpu = -1;

    // Creates a runnable thread; `pinned_cpu` restricts it to one CPU.
    static ErrorOr<Thread*> try_create(const char* name, Entry entry, void* argument, int pinned_cpu = any_cpu);
    // Wraps the code already running on `stack` (the boot thread, an AP's
    // idle thread) into a Thread.
    static ErrorOr<Thread*> adopt_current(const char* name, KernelStack stack, bool owns_stack);

    // Waits until the thread has exited, then frees it.
    void join();

    const char* name() const { return m_name; }
    uint64_t id() const { return m_id; }
    State state() const { return m_state.load(kstd::memory_order_acquire); }
    int pinned_cpu() const { return m_pinned_cpu; }
    const KernelStack& stack() const { return m_stack; }

private:
    friend class Scheduler;
    friend class WaitQueue;
    friend class SleepQueue;
    friend void thread_start();
    Thread() = default;

    char m_name[32] {};
    uint64_t m_id { 0 };
    Entry m_entry { nullptr };
    void* m_argument { nullptr };
    KernelStack m_stack {};
    bool m_owns_stack { true };
    int m_pinned_cpu { any_cpu };

public:
    // Scheduler state, touched only by kernel/sched. Public because the
    // intrusive lists there name the nodes as template arguments. The state
    // is protected by the scheduler lock; each node by its list's lock.
    // Atomic because join() reads it without the lock: seeing Dead (stored
    // after m_on_cpu was set by the CPU that runs the exit) makes the
    // following m_on_cpu load current.
    kstd::atomic<State> m_state { State::Runnable };
    uint64_t m_saved_rsp { 0 };
    // True while some CPU runs on this thread's stack; cleared by the
    // context switch after the registers are saved, so another CPU may
    // resume the thread only then.
    kstd::atomic<bool> m_on_cpu { false };
    IntrusiveListNode m_run_node; // run queue
    IntrusiveListNode m_wait_node; // a wait queue
    IntrusiveListNode m_sleep_node; // the sleep queue
    uint64_t m_wake_deadline_ns { 0 };
    kstd::atomic<bool> m_exited { false };
};

Thread& current_thread();

// Sleeps at least `ns` nanoseconds.
void sleep_ns(uint64_t ns);
inline void sleep_ms(uint64_t ms) { sleep_ns(ms * 1000000); }

} // namespace tessera
