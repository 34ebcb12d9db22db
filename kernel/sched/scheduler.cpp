#include <arch/context.h>
#include <arch/cpu.h>
#include <arch/per_cpu.h>
#include <arch/smp.h>
#include <kernel/console/console.h>
#include <kernel/console/panic.h>
#include <kernel/locking/sleep_checks.h>
#include <kernel/locking/spinlock.h>
#include <kernel/sched/scheduler.h>
#include <kernel/sched/sleep_queue.h>
#include <kernel/sched/work_queue.h>
#include <kernel/time/clock.h>
#include <kernel/time/timer.h>

namespace tessera {

kstd::atomic<bool> Scheduler::s_running { false };

namespace {

constexpr uint64_t time_slice_ticks = 2;

struct RunQueue {
    IntrusiveList<Thread, &Thread::m_run_node> threads;
    // Exited threads whose scheduler reference the reaper has yet to drop.
    IntrusiveList<Thread, &Thread::m_run_node> dead;
    uint64_t context_switches { 0 };
};

SpinlockProtected<RunQueue, LockRank::Scheduler> s_run_queue;

// Drops the scheduler's reference of every exited thread, once its CPU has
// switched away from its stack. It runs on the system work queue, not in
// schedule(): the last reference frees the stack and the Thread, which
// takes the stack-slot and heap locks, ranked below the scheduler lock, and
// schedule() runs with interrupts off, maybe at the end of an interrupt.
void reap_dead_threads(void*)
{
    for (;;) {
        bool some_still_on_cpu = false;
        Thread* reaped = s_run_queue.with([&](RunQueue& queue) -> Thread* {
            for (Thread* thread = queue.dead.first(); thread != nullptr; thread = queue.dead.next_of(*thread)) {
                if (!thread->m_on_cpu.load(kstd::memory_order_acquire)) {
                    queue.dead.remove(*thread);
                    return thread;
                }
            }
            some_still_on_cpu = !queue.dead.is_empty();
            return nullptr;
        });
        if (reaped != nullptr) {
            reaped->unref(); // the scheduler's reference (try_create took it)
            continue;
        }
        if (!some_still_on_cpu)
            return;
        // Its CPU is inside schedule() with interrupts off, between marking
        // it Dead and the context switch: a bounded wait.
        arch::relax();
    }
}

WorkItem s_reap_work(reap_dead_threads, nullptr);

constinit kstd::atomic<uint64_t> s_exit_hold_bound_ns { 0 };

// The first runnable thread this CPU may run, taken off the queue. A thread
// still on another CPU (woken before it finished switching away) is left
// for later: taking it now would let two CPUs decide its fate at once.
Thread* take_next(RunQueue& queue, uint32_t cpu_index, Thread* current)
{
    for (Thread* thread = queue.threads.first(); thread != nullptr; thread = queue.threads.next_of(*thread)) {
        if (thread != current && thread->m_on_cpu.load(kstd::memory_order_acquire))
            continue;
        if (thread->pinned_cpu() == Thread::any_cpu || static_cast<uint32_t>(thread->pinned_cpu()) == cpu_index) {
            queue.threads.remove(*thread);
            return thread;
        }
    }
    return nullptr;
}

// A CPU sitting in its idle thread only notices new work at its next tick;
// an IPI gets it there now.
void kick_an_idle_cpu(int pinned_cpu)
{
    uint32_t me = arch::current_cpu_index();
    for (size_t i = 0; i < arch::cpu_count(); ++i) {
        CpuLocal& cpu = arch::cpu_local_at(i);
        if (i == me || !cpu.online.load(kstd::memory_order_acquire) || cpu.current_thread != cpu.idle_thread)
            continue;
        if (pinned_cpu != Thread::any_cpu && static_cast<size_t>(pinned_cpu) != i)
            continue;
        arch::send_reschedule_ipi(static_cast<uint32_t>(i));
        return;
    }
}

} // namespace

Thread& current_thread()
{
    Thread* thread = arch::current_thread_pointer();
    VERIFY(thread != nullptr);
    return *thread;
}

void Scheduler::schedule()
{
    // Callers drop their own locks first (block_current() is called under
    // the waiter's lock, schedule() after it), and the run-queue lock is
    // taken only below, so nothing may be held here: a thread switched out
    // holding a spinlock would keep it until it runs again.
    verify_no_spinlock_held("schedule()");
    bool interrupts_were_enabled = arch::save_and_disable_interrupts();
    CpuLocal& cpu = arch::this_cpu_local();
    cpu.need_reschedule = false;
    Thread* current = cpu.current_thread;
    Thread* next = s_run_queue.with([&](RunQueue& queue) {
        if (current->m_state == Thread::State::Running && current != cpu.idle_thread) {
            current->m_state = Thread::State::Runnable;
            queue.threads.append(*current);
        }
        Thread* chosen = take_next(queue, cpu.index, current);
        if (chosen == nullptr)
            chosen = current->m_state == Thread::State::Running ? current : cpu.idle_thread;
        chosen->m_state = Thread::State::Running;
        if (chosen != current)
            ++queue.context_switches;
        return chosen;
    });
    if (next != current) {
        // The previous CPU may still be saving `next`'s registers.
        while (next->m_on_cpu.load(kstd::memory_order_acquire))
            arch::relax();
        next->m_on_cpu.store(true, kstd::memory_order_relaxed);
        cpu.current_thread = next;
        arch::set_kernel_stack_top(next->stack().top);
        arch::switch_context(&current->m_saved_rsp, next->m_saved_rsp, &current->m_on_cpu);
        // Back on `current`, possibly on another CPU.
    }
    arch::restore_interrupts(interrupts_were_enabled);
}

void Scheduler::yield() { schedule(); }

void Scheduler::block_current()
{
    Thread& self = current_thread();
    s_run_queue.with([&](RunQueue&) { self.m_state = Thread::State::Blocked; });
}

void Scheduler::exit_current()
{
    arch::disable_interrupts();
    Thread& self = current_thread();
    s_run_queue.with([&](RunQueue& queue) {
        self.m_state = Thread::State::Dead;
        queue.dead.append(self);
    });
    // Queued after the append, so the reaper sees this thread: if it is
    // running now, queue() has it run again. With interrupts off, a reaper
    // on this CPU runs only after the switch away; on another CPU it waits
    // for m_on_cpu to clear. We run on our own stack until then, and our
    // Thread stays alive through the scheduler's reference.
    WorkQueue::system().queue(s_reap_work);
    if (uint64_t bound = s_exit_hold_bound_ns.load(kstd::memory_order_acquire); bound != 0) {
        // A selftest holds the exit here, on this CPU, until it has seen
        // it (a fixed delay was missed when the host descheduled the
        // observer's vCPU for longer than the delay).
        uint64_t until = uptime_ns() + bound;
        while (s_exit_hold_bound_ns.load(kstd::memory_order_acquire) != 0 && uptime_ns() < until)
            arch::relax();
    }
    schedule();
    panic("dead thread %s was scheduled", self.name());
}

void Scheduler::set_exit_hold_for_test(uint64_t bound_ns)
{
    s_exit_hold_bound_ns.store(bound_ns, kstd::memory_order_release);
}

void Scheduler::wake(Thread& thread)
{
    // Read under the lock: once queued, the thread may run, exit and be freed.
    int pinned_cpu = Thread::any_cpu;
    bool queued = s_run_queue.with([&](RunQueue& queue) {
        if (thread.m_state != Thread::State::Blocked)
            return false;
        thread.m_state = Thread::State::Runnable;
        queue.threads.append(thread);
        pinned_cpu = thread.pinned_cpu();
        return true;
    });
    if (queued)
        kick_an_idle_cpu(pinned_cpu);
}

void Scheduler::make_runnable(Thread& thread)
{
    int pinned_cpu = s_run_queue.with([&](RunQueue& queue) {
        thread.m_state = Thread::State::Runnable;
        queue.threads.append(thread);
        return thread.pinned_cpu();
    });
    kick_an_idle_cpu(pinned_cpu);
}

void Scheduler::timer_tick()
{
    CpuLocal& cpu = arch::this_cpu_local();
    ++cpu.timer_ticks;
    SleepQueue::wake_expired();
    Timer::run_expired();
    if (cpu.current_thread == cpu.idle_thread || cpu.timer_ticks % time_slice_ticks == 0)
        cpu.need_reschedule = true;
}

void Scheduler::preempt_if_needed()
{
    if (is_running() && arch::this_cpu_local().need_reschedule)
        schedule();
}

uint64_t Scheduler::context_switches()
{
    return s_run_queue.with([](RunQueue& queue) { return queue.context_switches; });
}

void Scheduler::idle_loop()
{
    for (;;) {
        // Halt with interrupts on; the timer tick or an IPI ends the halt
        // and schedule() runs whatever became runnable.
        arch::enable_interrupts_and_halt();
        schedule();
    }
}

ErrorOr<Thread*> Scheduler::create_idle_thread(uint32_t cpu_index)
{
    KernelStack stack = TRY(kernel_stack_allocate());
    auto idle = Thread::adopt_current("idle", stack, true);
    if (idle.is_error()) {
        kernel_stack_free(stack);
        return idle.release_error();
    }
    // Idle threads never exit: the reference is never dropped.
    Thread* thread = &idle.release_value().leak_ref();
    thread->m_pinned_cpu = static_cast<int>(cpu_index);
    return thread;
}

void Scheduler::initialize_on_boot_cpu(KernelStack boot_stack)
{
    CpuLocal& cpu = arch::this_cpu_local();
    // The boot and idle threads never exit: their references are never dropped.
    Thread* boot = &MUST(Thread::adopt_current("boot", boot_stack, false)).leak_ref();
    boot->m_state = Thread::State::Running;
    boot->m_on_cpu.store(true);
    cpu.current_thread = boot;

    // The BSP's idle thread starts in idle_loop the first time the boot
    // thread blocks or is preempted with nothing else to run.
    Thread* idle = &MUST(Thread::try_create(
                             "idle", [](void*) { idle_loop(); }, nullptr, 0))
                        .leak_ref();
    // try_create queued it; the idle thread must never sit in the run queue.
    s_run_queue.with([&](RunQueue& queue) {
        queue.threads.remove(*idle);
        idle->m_state = Thread::State::Runnable;
    });
    cpu.idle_thread = idle;
    s_running.store(true, kstd::memory_order_release);
    // Deferred work is a core service: its workers exist before any driver.
    WorkQueue::start_system_queue();
}

void Scheduler::run_idle_on_this_cpu(Thread& idle)
{
    CpuLocal& cpu = arch::this_cpu_local();
    idle.m_state = Thread::State::Running;
    idle.m_on_cpu.store(true);
    cpu.idle_thread = &idle;
    cpu.current_thread = &idle;
    arch::set_kernel_stack_top(idle.stack().top);
    idle_loop();
}

} // namespace tessera
