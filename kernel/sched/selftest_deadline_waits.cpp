// Selftests of waits with a deadline (WaitQueue::wait_until_for/_deadline,
// MutexGuard::try_acquire_for): a wait times out with ETIMEDOUT no earlier
// than its deadline and leaves no trace on the queues; a wake before the
// deadline wins; a true condition wins over an expired deadline; a stress
// of wakes racing timeouts loses no wake-up; a mutex held elsewhere times
// out, and one released in time is taken.

#include <arch/cpu.h>
#include <kernel/console/console.h>
#include <kernel/sched/mutex.h>
#include <kernel/sched/thread.h>
#include <kernel/sched/wait_queue.h>
#include <kernel/selftest/selftest.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

constexpr uint64_t give_up_ns = 5 * ns_per_second;

bool left_no_trace()
{
    Thread& self = current_thread();
    return !self.m_wait_node.is_linked() && !self.m_sleep_node.is_linked();
}

void wait_times_out_no_earlier_than_the_deadline()
{
    WaitQueue queue;
    uint64_t start = uptime_ns();
    auto result = queue.wait_until_for([] { return false; }, 30 * ns_per_ms);
    uint64_t waited = uptime_ns() - start;
    KEXPECT(result.is_error());
    if (result.is_error())
        KEXPECT_EQ(static_cast<int>(result.error().code()), static_cast<int>(Errno::TIMEDOUT));
    KEXPECT(waited >= 30 * ns_per_ms);
    KEXPECT(waited < give_up_ns);
    KEXPECT(left_no_trace());
    // An expired deadline with a false condition returns at once; a true
    // condition wins over an expired deadline.
    KEXPECT(queue.wait_until_deadline([] { return false; }, 0).is_error());
    KEXPECT(!queue.wait_until_deadline([] { return true; }, 0).is_error());
    KEXPECT(left_no_trace());
}

struct Signal {
    WaitQueue queue;
    bool set { false }; // under queue's lock
    uint64_t delay_ns { 0 };
};

void wake_before_the_deadline_succeeds()
{
    Signal signal;
    signal.delay_ns = 20 * ns_per_ms;
    uint64_t start = uptime_ns();
    auto waker = KMUST(Thread::try_create(
        "waker",
        [](void* argument) {
            auto& signal = *static_cast<Signal*>(argument);
            sleep_ns(signal.delay_ns);
            signal.queue.change_and_wake_all([&] { signal.set = true; });
        },
        &signal));
    auto result = signal.queue.wait_until_for([&] { return signal.set; }, give_up_ns);
    uint64_t waited = uptime_ns() - start;
    waker->join();
    KEXPECT(!result.is_error());
    KEXPECT(waited >= signal.delay_ns);
    KEXPECT(waited < give_up_ns);
    KEXPECT(left_no_trace());
    // A later plain sleep is not cut short by a stale timeout of this wait.
    uint64_t before_sleep = uptime_ns();
    sleep_ms(30);
    KEXPECT(uptime_ns() - before_sleep >= 30 * ns_per_ms);
}

// One token per round, posted with change_and_wake_one() at the tick where
// the racer's deadline expires. The racer waits with that deadline, the
// backstop waits with none, both for a token on `tokens` (and nothing else
// waits there, so any waiter woken can take it). Whoever the wake-up picks,
// the token must be taken: if the wake went to a racer that had already
// timed out and left (or one that gave up despite a token), the backstop
// would sleep on with the token there and the round would reach its give-up
// time.
struct Race {
    WaitQueue tokens;
    // Under tokens' lock:
    uint32_t available { 0 };
    uint32_t racer_took { 0 };
    uint32_t backstop_took { 0 };
    uint32_t tokens_round_over { 0 };

    WaitQueue control;
    // Under control's lock:
    uint32_t round { 0 }; // the racer's next round starts when it changes
    uint64_t racer_deadline { 0 };
    bool racer_stop { false };
    bool racer_done_round { true };
    uint32_t taken { 0 };
    uint32_t backstop_done_round { 0 };
    uint32_t racer_timed_out { 0 };
    bool racer_left_trace { false };
};

constexpr uint32_t race_rounds = 60;

// Joins the token queue each round a little after the racer, so that the
// racer is first in line for the wake-up.
void race_backstop(void* argument)
{
    auto& race = *static_cast<Race*>(argument);
    uint32_t seen_round = 0;
    for (;;) {
        bool stop = false;
        race.control.wait_until([&] {
            stop = race.racer_stop;
            if (!stop && race.round != seen_round) {
                seen_round = race.round;
                return true;
            }
            return stop;
        });
        if (stop)
            return;
        sleep_ms(2);
        bool took = false;
        race.tokens.wait_until([&] {
            if (race.available > 0) {
                --race.available;
                ++race.backstop_took;
                took = true;
                return true;
            }
            return race.tokens_round_over == seen_round;
        });
        race.control.change_and_wake_all([&] {
            if (took)
                ++race.taken;
            race.backstop_done_round = seen_round;
        });
    }
}

void race_racer(void* argument)
{
    auto& race = *static_cast<Race*>(argument);
    uint32_t seen_round = 0;
    for (;;) {
        uint64_t deadline = 0;
        bool stop = false;
        race.control.wait_until([&] {
            stop = race.racer_stop;
            if (!stop && race.round != seen_round) {
                seen_round = race.round;
                deadline = race.racer_deadline;
                return true;
            }
            return stop;
        });
        if (stop)
            return;
        auto result = race.tokens.wait_until_deadline(
            [&] {
                if (race.available == 0)
                    return false;
                --race.available;
                ++race.racer_took;
                return true;
            },
            deadline);
        bool trace = !left_no_trace();
        race.control.change_and_wake_all([&] {
            if (result.is_error())
                ++race.racer_timed_out;
            else
                ++race.taken;
            race.racer_left_trace |= trace;
            race.racer_done_round = true;
        });
    }
}

void wake_racing_timeout_stress()
{
    Race race;
    auto backstop = KMUST(Thread::try_create("backstop", race_backstop, &race));
    auto racer = KMUST(Thread::try_create("racer", race_racer, &race));
    bool lost = false;
    for (uint32_t round = 1; round <= race_rounds && !lost; ++round) {
        // Deadlines fall on and around the tick the producer wakes at.
        uint64_t deadline = uptime_ns() + 10 * ns_per_ms + (round % 5) * ns_per_ms;
        race.control.change_and_wake_all([&] {
            race.racer_deadline = deadline;
            race.racer_done_round = false;
            race.round = round;
        });
        SleepQueue::sleep_until(deadline - 2 * ns_per_ms + (round % 3) * 2 * ns_per_ms);
        race.tokens.change_and_wake_one([&] { ++race.available; });
        auto consumed
            = race.control.wait_until_for([&] { return race.taken == round && race.racer_done_round; }, give_up_ns);
        lost = consumed.is_error();
        race.tokens.change_and_wake_all([&] { race.tokens_round_over = round; });
        (void)race.control.wait_until_for([&] { return race.backstop_done_round == round; }, give_up_ns);
    }
    race.control.change_and_wake_all([&] { race.racer_stop = true; });
    racer->join();
    backstop->join();
    console_print("    # %u rounds: racer took %u, timed out %u; backstop took %u\n", race_rounds, race.racer_took,
        race.racer_timed_out, race.backstop_took);
    KEXPECT(!lost);
    KEXPECT_EQ(race.racer_took + race.backstop_took, race_rounds);
    KEXPECT_EQ(race.available, 0u);
    KEXPECT(!race.racer_left_trace);
}

struct Holder {
    Mutex* mutex;
    Signal release;
    kstd::atomic<bool> holding { false };
};

void hold_until_released(void* argument)
{
    auto& holder = *static_cast<Holder*>(argument);
    MutexGuard guard(*holder.mutex);
    holder.holding.store(true);
    if (holder.release.delay_ns != 0)
        sleep_ns(holder.release.delay_ns);
    else
        (void)holder.release.queue.wait_until_for([&] { return holder.release.set; }, give_up_ns);
}

bool wait_holding(Holder& holder)
{
    uint64_t deadline = uptime_ns() + give_up_ns;
    while (!holder.holding.load() && uptime_ns() < deadline)
        sleep_ms(1);
    return holder.holding.load();
}

ErrorOr<int> add_under(Mutex& mutex, int& value)
{
    auto guard = TRY(MutexGuard::try_acquire_for(mutex, 100 * ns_per_ms));
    return ++value;
}

void mutex_try_acquire_for_times_out_while_held()
{
    Mutex mutex;
    Holder holder { &mutex, {}, {} };
    auto thread = KMUST(Thread::try_create("holder", hold_until_released, &holder));
    KEXPECT(wait_holding(holder));
    uint64_t start = uptime_ns();
    {
        auto guard = MutexGuard::try_acquire_for(mutex, 30 * ns_per_ms);
        uint64_t waited = uptime_ns() - start;
        KEXPECT(guard.is_error());
        if (guard.is_error())
            KEXPECT_EQ(static_cast<int>(guard.error().code()), static_cast<int>(Errno::TIMEDOUT));
        KEXPECT(waited >= 30 * ns_per_ms);
        KEXPECT(!mutex.is_locked_by_current_thread());
    }
    KEXPECT(left_no_trace());
    int value = 0;
    KEXPECT(add_under(mutex, value).is_error()); // TRY propagates ETIMEDOUT
    holder.release.queue.change_and_wake_all([&] { holder.release.set = true; });
    thread->join();
    {
        auto guard = MutexGuard::try_acquire_for(mutex, give_up_ns);
        KEXPECT(!guard.is_error());
        KEXPECT(mutex.is_locked_by_current_thread());
    }
    KEXPECT(!mutex.is_locked_by_current_thread());
    auto added = add_under(mutex, value);
    KEXPECT(!added.is_error() && added.value() == 1);
}

void mutex_released_in_time_is_taken()
{
    Mutex mutex;
    Holder holder { &mutex, {}, {} };
    holder.release.delay_ns = 20 * ns_per_ms;
    auto thread = KMUST(Thread::try_create("holder", hold_until_released, &holder));
    KEXPECT(wait_holding(holder));
    {
        auto guard = MutexGuard::try_acquire_for(mutex, give_up_ns);
        KEXPECT(!guard.is_error());
        KEXPECT(mutex.is_locked_by_current_thread());
    }
    thread->join();
    KEXPECT(left_no_trace());
}

} // namespace

SELFTEST_SUITE(sched_deadline_waits, CONFIG_DEADLINE_WAIT_SELFTEST,
    SELFTEST_CASE(wait_times_out_no_earlier_than_the_deadline), SELFTEST_CASE(wake_before_the_deadline_succeeds),
    SELFTEST_CASE(wake_racing_timeout_stress), SELFTEST_CASE(mutex_try_acquire_for_times_out_while_held),
    SELFTEST_CASE(mutex_released_in_time_is_taken));

} // namespace tessera
