// A hashed timer wheel: slot i holds the timers whose deadline, in slots of
// 1 ms rounded up, is i modulo the slot count. Arming and cancelling are
// O(1); each tick visits the slots that time has passed since the last
// tick (on any CPU) and fires what is due there, leaving timers that are
// whole turns away. One wheel for all CPUs: whichever CPU's tick reaches a
// slot first fires its timers, so a timer armed on one CPU may expire on
// another.

#include <arch/cpu.h>
#include <arch/per_cpu.h>
#include <kernel/console/panic.h>
#include <kernel/locking/spinlock.h>
#include <kernel/time/clock.h>
#include <kernel/time/timer.h>

namespace tessera {

class TimerWheel {
public:
    static constexpr uint64_t slot_ns = ns_per_ms;
    static constexpr size_t slot_count = 1024; // about a second per turn

    using List = IntrusiveList<Timer, &Timer::m_node>;

    struct State {
        List slots[slot_count];
        // Due timers taken out of their slots, waiting for a CPU to run them.
        List expired;
        // Every slot up to this one has been visited.
        uint64_t visited_slot { 0 };
    };

    static void insert(State& state, Timer& timer, uint64_t deadline_ns)
    {
        if (timer.m_node.is_linked())
            remove(state, timer);
        timer.m_deadline_ns = deadline_ns;
        timer.m_expiry_slot = deadline_ns / slot_ns + (deadline_ns % slot_ns != 0 ? 1 : 0);
        // A slot already visited is seen again only a turn later; the next
        // visit then finds the timer due.
        uint64_t slot = timer.m_expiry_slot > state.visited_slot ? timer.m_expiry_slot : state.visited_slot + 1;
        timer.m_list = static_cast<uint16_t>(slot % slot_count);
        state.slots[timer.m_list].append(timer);
    }

    static void remove(State& state, Timer& timer) { list_of(state, timer).remove(timer); }

    // Moves every timer due at `now_slot` onto the expired list.
    static void collect_due(State& state, uint64_t now_slot)
    {
        if (now_slot <= state.visited_slot)
            return;
        uint64_t steps = now_slot - state.visited_slot;
        if (steps > slot_count)
            steps = slot_count;
        for (uint64_t i = 1; i <= steps; ++i) {
            List& slot = state.slots[(state.visited_slot + i) % slot_count];
            slot.for_each([&](Timer& timer) {
                if (timer.m_expiry_slot <= now_slot) {
                    slot.remove(timer);
                    timer.m_list = expired_list;
                    state.expired.append(timer);
                }
            });
        }
        state.visited_slot = now_slot;
    }

    static SpinlockProtected<State, LockRank::Timers>& wheel() { return s_wheel; }

private:
    static constexpr uint16_t expired_list = slot_count;
    static_assert(slot_count < 0xffff);

    static List& list_of(State& state, Timer& timer)
    {
        return timer.m_list == expired_list ? state.expired : state.slots[timer.m_list];
    }

    // Built by the global constructors, before the first timer tick.
    static SpinlockProtected<State, LockRank::Timers> s_wheel;
};

SpinlockProtected<TimerWheel::State, LockRank::Timers> TimerWheel::s_wheel;

Timer::~Timer() { VERIFY(m_running_cpu.load(kstd::memory_order_acquire) == -1); }

void Timer::arm_after(uint64_t ns) { arm_at(deadline_after_ns(ns)); }

void Timer::arm_at(uint64_t deadline_ns)
{
    TimerWheel::wheel().with([&](TimerWheel::State& state) {
        m_period_ns = 0;
        TimerWheel::insert(state, *this, deadline_ns);
    });
}

void Timer::arm_periodic(uint64_t period_ns)
{
    VERIFY(period_ns > 0);
    TimerWheel::wheel().with([&](TimerWheel::State& state) {
        m_period_ns = period_ns;
        TimerWheel::insert(state, *this, deadline_after_ns(period_ns));
    });
}

bool Timer::is_armed() const
{
    return TimerWheel::wheel().with([&](TimerWheel::State&) { return m_node.is_linked(); });
}

bool Timer::cancel()
{
    bool was_armed = false;
    for (;;) {
        int32_t running_elsewhere = TimerWheel::wheel().with([&](TimerWheel::State& state) {
            if (m_node.is_linked()) {
                TimerWheel::remove(state, *this);
                was_armed = true;
            }
            m_period_ns = 0; // a running periodic callback is not re-armed
            int32_t running = m_running_cpu.load(kstd::memory_order_relaxed);
            // Interrupts are off here, so a callback on this CPU is the caller.
            return running == static_cast<int32_t>(arch::this_cpu_local().index) ? -1 : running;
        });
        if (running_elsewhere == -1)
            return was_armed;
        // The callback may re-arm the timer before it returns: look again.
        while (m_running_cpu.load(kstd::memory_order_acquire) == running_elsewhere)
            arch::relax();
    }
}

void Timer::run_expired()
{
    auto& wheel = TimerWheel::wheel();
    uint64_t now = uptime_ns();
    wheel.with([&](TimerWheel::State& state) { TimerWheel::collect_due(state, now / TimerWheel::slot_ns); });
    for (;;) {
        Timer* timer = wheel.with([&](TimerWheel::State& state) -> Timer* {
            while (Timer* due = state.expired.take_first()) {
                if (due->m_running_cpu.load(kstd::memory_order_relaxed) != -1) {
                    // Still running its previous expiry on another CPU.
                    TimerWheel::insert(state, *due, due->m_deadline_ns);
                    continue;
                }
                due->m_running_cpu.store(
                    static_cast<int32_t>(arch::this_cpu_local().index), kstd::memory_order_relaxed);
                return due;
            }
            return nullptr;
        });
        if (timer == nullptr)
            return;
        timer->m_callback(timer->m_argument);
        wheel.with([&](TimerWheel::State& state) {
            if (timer->m_period_ns != 0 && !timer->m_node.is_linked()) {
                uint64_t next = timer->m_deadline_ns + timer->m_period_ns;
                uint64_t current = uptime_ns();
                if (next <= current)
                    next = current + timer->m_period_ns;
                TimerWheel::insert(state, *timer, next);
            }
            // Last touch: once this is seen, cancel() may return and the
            // owner may free the timer.
            timer->m_running_cpu.store(-1, kstd::memory_order_release);
        });
    }
}

} // namespace tessera
