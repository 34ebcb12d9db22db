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
    // Exit: mark dead and wake joiners; the stack is freed by join() once
    // the switch away from it has completed (m_on_cpu false).
    s_exits.change_and_wake_all([&] { self.m_exited.store(true, kstd::memory_order_release); });
    Scheduler::exit_current();
}

ErrorOr<Thread*> Thread::try_create(const char* name, Entry entry, void* argument, int pinned_cpu)
{
    Thread* thread = new (kstd::nothrow) Thread;
    if (thread == nullptr)
        return Error(Errno::NOMEM, "no memory for a thread");
    auto stack = kernel_stack_allocate();
    if (stack.is_error()) {
        delete thread;
        return stack.release_error();
    }
    copy_name(thread->m_name, name);
    thread->m_id = s_next_id.fetch_add(1);
    thread->m_entry = entry;
    thread->m_argument = argument;
    thread->m_stack = stack.value();
    thread->m_pinned_cpu = pinned_cpu;

    thread->m_saved_rsp = arch::prepare_initial_context(thread->m_stack.top, thread_start);

    dbgln_if(CONFIG_SCHED_DEBUG, "sched: thread %s (id %llu) created, stack %#llx", thread->m_name,
        static_cast<unsigned long long>(thread->m_id), static_cast<unsigned long long>(thread->m_stack.top));
    Scheduler::make_runnable(*thread);
    return thread;
}

ErrorOr<Thread*> Thread::adopt_current(const char* name, KernelStack stack, bool owns_stack)
{
    Thread* thread = new (kstd::nothrow) Thread;
    if (thread == nullptr)
        return Error(Errno::NOMEM, "no memory for a thread");
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
    if (m_owns_stack)
        kernel_stack_free(m_stack);
    delete this;
}

} // namespace tessera
