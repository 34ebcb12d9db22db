#pragma once
// Kernel threads. A thread runs `entry(argument)` on its own guarded kernel
// stack; when entry returns the thread is dead.
//
// Lifetime: a Thread is reference counted. try_create() hands the caller
// one reference; the scheduler holds another from creation until the dead
// thread's CPU has switched away from its stack, and drops it later from
// the system work queue (the reaper), in thread context and with no lock
// held. The last reference frees the Thread and its stack, so:
//   - a joiner calls join() (waits, frees nothing) and then drops its ref;
//   - a detached thread is one whose creator dropped its ref at once: it
//     is reclaimed after it exits.
// Drop a thread reference only in thread context with no spinlock held
// (freeing takes the heap and stack-slot locks).

#include <kernel/lib/error_or.h>
#include <kernel/lib/intrusive_list.h>
#include <kernel/lib/nonnull_ref_ptr.h>
#include <kernel/lib/ref_counted.h>
#include <kernel/lib/ref_ptr.h>
#include <kernel/memory/kernel_stack.h>

namespace tessera {

// First C++ code of every new thread (called by thread_trampoline).
extern "C" [[noreturn]] void thread_start();

class Thread : public RefCounted<Thread> {
public:
    using Entry = void (*)(void* argument);
    enum class State : uint8_t { Runnable, Running, Blocked, Dead };
    static constexpr int any_cpu = -1;

    // Creates a runnable thread; `pinned_cpu` restricts it to one CPU.
    static ErrorOr<NonnullRefPtr<Thread>> try_create(
        const char* name, Entry entry, void* argument, int pinned_cpu = any_cpu);
    // Wraps the code already running on `stack` (the boot thread, an AP's
    // idle thread) into a Thread. Such threads never exit.
    static ErrorOr<NonnullRefPtr<Thread>> adopt_current(const char* name, KernelStack stack, bool owns_stack);

    // Waits until the thread has exited and its CPU has switched away from
    // it (state() is then Dead). Frees nothing: the caller's reference keeps
    // the Thread readable until it is dropped.
    void join();

    // Test hooks: Threads alive now, and destroyed since boot.
    static uint64_t live_count();
    static uint64_t destroyed_count();

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
    friend class RefCounted<Thread>;
    Thread();
    ~Thread();

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
    IntrusiveListNode m_run_node; // run queue, then the dead list
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
