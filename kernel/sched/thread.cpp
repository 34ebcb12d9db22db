#include <arch/context.h>
#include <arch/cpu.h>
#include <kernel/console/console.h>
#include <kernel/console/panic.h>
#include <kernel/lib/format.h>
#include <kernel/memory/kernel_heap.h>
#include <kernel/sched/scheduler.h>
#include <kernel/sched/thread.h>
#include <kernel/sched/wait_queue.h>

namespace tessera {

namespace {

constinit kstd::atomic<uint64_t> s_next_id { 1 };
constinit kstd::atomic<uint64_t> s_live { 0 };
constinit kstd::atomic<uint64_t> s_destroyed { 0 };
// Joiners wait here for any thread to exit; exits are rare enough that one
// shared queue is simpler than one per thread.
WaitQueue s_exits;

void copy_name(char (&destination)[32], const char* name)
{
    format(destination, sizeof(destination), "%s", name != nullptr ? name : "?");
}

} // namespace

extern "C" [[noreturn]] void thread_start()
{
    Thread& self = current_thread();
    arch::enable_interrupts();
    self.m_entry(self.m_argument);
    // Exit: wake joiners; exit_current() hands the thread to the reaper,
    // which drops the scheduler's reference once the switch away from its
    // stack has completed (m_on_cpu false).
    s_exits.change_and_wake_all([&] { self.m_exited.store(true, kstd::memory_order_release); });
    Scheduler::exit_current();
}

Thread::Thread() { s_live.fetch_add(1, kstd::memory_order_relaxed); }

Thread::~Thread()
{
    // Only a thread that never ran (adopt_current's, which never die) or one
    // fully switched away from may go: anything else means a reference was
    // dropped that the scheduler still needed.
    VERIFY(!m_on_cpu.load(kstd::memory_order_acquire));
    VERIFY(m_entry == nullptr || state() == State::Dead);
    if (m_owns_stack && m_stack.top != 0)
        kernel_stack_free(m_stack);
    s_destroyed.fetch_add(1, kstd::memory_order_relaxed);
    s_live.fetch_sub(1, kstd::memory_order_relaxed);
}

uint64_t Thread::live_count() { return s_live.load(kstd::memory_order_relaxed); }
uint64_t Thread::destroyed_count() { return s_destroyed.load(kstd::memory_order_relaxed); }

ErrorOr<NonnullRefPtr<Thread>> Thread::try_create(const char* name, Entry entry, void* argument, int pinned_cpu)
{
    KernelStack stack = TRY(kernel_stack_allocate());
    auto created = adopt_ref_if_nonnull(new (kstd::nothrow) Thread);
    if (created.is_error()) {
        kernel_stack_free(stack);
        return created.release_error();
    }
    NonnullRefPtr<Thread> thread = created.release_value();
    copy_name(thread->m_name, name);
    thread->m_id = s_next_id.fetch_add(1);
    thread->m_entry = entry;
    thread->m_argument = argument;
    thread->m_stack = stack;
    thread->m_pinned_cpu = pinned_cpu;

    thread->m_saved_rsp = arch::prepare_initial_context(thread->m_stack.top, thread_start);

    dbgln_if(CONFIG_SCHED_DEBUG, "sched: thread %s (id %llu) created, stack %#llx", thread->m_name,
        static_cast<unsigned long long>(thread->m_id), static_cast<unsigned long long>(thread->m_stack.top));
    // The scheduler's reference, dropped by the reaper after the exit.
    thread->ref();
    Scheduler::make_runnable(*thread);
    return thread;
}

ErrorOr<NonnullRefPtr<Thread>> Thread::adopt_current(const char* name, KernelStack stack, bool owns_stack)
{
    auto created = adopt_ref_if_nonnull(new (kstd::nothrow) Thread);
    if (created.is_error())
        return created.release_error();
    NonnullRefPtr<Thread> thread = created.release_value();
    copy_name(thread->m_name, name);
    thread->m_id = s_next_id.fetch_add(1);
    thread->m_stack = stack;
    thread->m_owns_stack = owns_stack;
    return thread;
}

void Thread::join()
{
    VERIFY(this != &current_thread());
    s_exits.wait_until([&] { return m_exited.load(kstd::memory_order_acquire); });
    // Its CPU may still be switching away from its stack.
    while (m_state.load(kstd::memory_order_acquire) != State::Dead || m_on_cpu.load(kstd::memory_order_acquire))
        arch::relax();
}

} // namespace tessera
