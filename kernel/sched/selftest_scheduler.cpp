// Selftests of kernel threads and the scheduler (kernel/sched/): creation
// and join, many threads, preemption of a thread that never yields, yield,
// wait-queue hand-offs and the context-switch counter.
//
// No loop here waits without a bound: spins end at an uptime deadline, and
// wait-queue waits have a watchdog that wakes everyone with `aborted` set,
// so a lost wake-up fails the case instead of hanging the run.

#include <arch/cpu.h>
#include <arch/per_cpu.h>
#include <kernel/lib/string_view.h>
#include <kernel/sched/scheduler.h>
#include <kernel/sched/thread.h>
#include <kernel/sched/wait_queue.h>
#include <kernel/selftest/selftest.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

constexpr uint64_t give_up_ns = 5 * ns_per_second;

// Wakes every waiter of `queue` with `aborted` set once `give_up_ns` has
// passed, unless stopped first. `aborted` is read and written only under
// the queue's lock (in wait conditions and change_and_wake_all()).
class Watchdog {
public:
    Watchdog(WaitQueue& queue, bool& aborted)
        : m_queue(queue)
        , m_aborted(aborted)
    {
    }
    bool start()
    {
        m_deadline = uptime_ns() + give_up_ns;
        auto thread = Thread::try_create("watchdog", run, this);
        if (!thread.is_error())
            m_thread = thread.value();
        return !m_thread.is_null();
    }
    void stop()
    {
        m_stop.store(true, kstd::memory_order_release);
        if (!m_thread.is_null())
            m_thread->join();
        m_thread = nullptr;
    }

private:
    static void run(void* argument)
    {
        auto& self = *static_cast<Watchdog*>(argument);
        while (!self.m_stop.load(kstd::memory_order_acquire)) {
            if (uptime_ns() >= self.m_deadline) {
                self.m_queue.change_and_wake_all([&] { self.m_aborted = true; });
                return;
            }
            sleep_ms(10);
        }
    }

    WaitQueue& m_queue;
    bool& m_aborted;
    kstd::atomic<bool> m_stop { false };
    uint64_t m_deadline { 0 };
    RefPtr<Thread> m_thread;
};

struct ArgumentRecord {
    int input;
    int output;
    uint64_t thread_id;
    bool name_matches;
};

void square_plus_one(void* argument)
{
    auto& record = *static_cast<ArgumentRecord*>(argument);
    record.output = record.input * record.input + 1;
    record.thread_id = current_thread().id();
    record.name_matches = StringView(current_thread().name()) == StringView("sched-argument");
}

void create_and_join_with_arguments()
{
    constexpr size_t count = 3;
    ArgumentRecord records[count] = { { 3, 0, 0, false }, { -7, 0, 0, false }, { 100, 0, 0, false } };
    RefPtr<Thread> threads[count];
    for (size_t i = 0; i < count; ++i) {
        auto thread = Thread::try_create("sched-argument", square_plus_one, &records[i]);
        KEXPECT(!thread.is_error());
        if (!thread.is_error())
            threads[i] = thread.value();
    }
    for (auto& thread : threads) {
        if (thread)
            thread->join();
    }
    KEXPECT_EQ(records[0].output, 10);
    KEXPECT_EQ(records[1].output, 50);
    KEXPECT_EQ(records[2].output, 10001);
    for (size_t i = 0; i < count; ++i) {
        KEXPECT(records[i].name_matches);
        KEXPECT(records[i].thread_id != 0);
        KEXPECT(records[i].thread_id != current_thread().id());
        for (size_t j = 0; j < i; ++j)
            KEXPECT(records[i].thread_id != records[j].thread_id);
    }
}

struct Crowd {
    kstd::atomic<uint32_t> runs { 0 };
    kstd::atomic<uint64_t> ran_mask { 0 };
};
struct CrowdMember {
    Crowd* crowd;
    uint32_t index;
};

void join_crowd(void* argument)
{
    auto& member = *static_cast<CrowdMember*>(argument);
    // Half of them block once, so the run queue churns while others start.
    if (member.index % 2 == 0)
        sleep_ms(1);
    else
        Scheduler::yield();
    member.crowd->ran_mask.fetch_or(1ull << member.index);
    member.crowd->runs.fetch_add(1);
}

void many_threads_all_run()
{
    constexpr uint32_t count = 16;
    Crowd crowd;
    CrowdMember members[count] {};
    RefPtr<Thread> threads[count];
    uint32_t created = 0;
    for (uint32_t i = 0; i < count; ++i) {
        members[i] = { &crowd, i };
        auto thread = Thread::try_create("crowd", join_crowd, &members[i]);
        KEXPECT(!thread.is_error());
        if (!thread.is_error())
            threads[created++] = thread.value();
    }
    for (uint32_t i = 0; i < created; ++i)
        threads[i]->join();
    KEXPECT_EQ(crowd.runs.load(), count);
    KEXPECT_EQ(crowd.ran_mask.load(), (1ull << count) - 1);
}

struct PreemptionState {
    int cpu;
    kstd::atomic<bool> spinning { false };
    kstd::atomic<bool> progressed { false };
    bool spinner_saw_progress { false };
    uint32_t spinner_cpu { 0 };
    uint32_t progress_cpu { 0 };
};

// Spins without yielding or blocking until the other thread has run.
void spin_until_progress(void* argument)
{
    auto& state = *static_cast<PreemptionState*>(argument);
    state.spinner_cpu = arch::current_cpu_index();
    uint64_t deadline = uptime_ns() + give_up_ns;
    state.spinning.store(true);
    while (!state.progressed.load() && uptime_ns() < deadline)
        arch::relax();
    state.spinner_saw_progress = state.progressed.load();
}

void make_progress(void* argument)
{
    auto& state = *static_cast<PreemptionState*>(argument);
    state.progress_cpu = arch::current_cpu_index();
    state.progressed.store(true);
}

// Both threads are pinned to one CPU, so the second can only run if the
// timer tick takes that CPU away from the spinner.
void preemption_without_yield()
{
    PreemptionState state;
    state.cpu = static_cast<int>(arch::cpu_count() - 1);
    auto spinner = KMUST(Thread::try_create("spinner", spin_until_progress, &state, state.cpu));
    uint64_t deadline = uptime_ns() + give_up_ns;
    while (!state.spinning.load() && uptime_ns() < deadline)
        sleep_ms(1);
    KEXPECT(state.spinning.load());
    auto progress = Thread::try_create("progress", make_progress, &state, state.cpu);
    KEXPECT(!progress.is_error());
    if (progress.is_error()) {
        state.progressed.store(true); // let the spinner end
    } else {
        progress.value()->join();
    }
    spinner->join();
    KEXPECT(state.spinner_saw_progress);
    KEXPECT_EQ(state.spinner_cpu, static_cast<uint32_t>(state.cpu));
    KEXPECT_EQ(state.progress_cpu, static_cast<uint32_t>(state.cpu));
}

struct PingPong {
    kstd::atomic<uint32_t> turn { 0 };
    kstd::atomic<bool> timed_out { false };
    uint64_t deadline { 0 };
    static constexpr uint32_t rounds = 50;
};
struct Player {
    PingPong* game;
    uint32_t me; // 0 or 1
};

// Waits for its turn by yielding, then hands the turn over.
void play(void* argument)
{
    auto& player = *static_cast<Player*>(argument);
    PingPong& game = *player.game;
    for (uint32_t round = 0; round < PingPong::rounds; ++round) {
        while (game.turn.load() % 2 != player.me) {
            if (uptime_ns() >= game.deadline) {
                game.timed_out.store(true);
                return;
            }
            Scheduler::yield();
        }
        game.turn.fetch_add(1);
    }
}

// Two threads on one CPU alternate 100 times. Without a working yield each
// hand-off would wait for a preemption (a 20 ms time slice), 2 s in all.
void yield_hands_over_the_cpu()
{
    Scheduler::yield(); // nothing else may be runnable: must simply return
    PingPong game;
    game.deadline = uptime_ns() + give_up_ns;
    int cpu = static_cast<int>(arch::cpu_count() - 1);
    Player players[2] = { { &game, 0 }, { &game, 1 } };
    uint64_t start = uptime_ns();
    auto first = KMUST(Thread::try_create("ping", play, &players[0], cpu));
    auto second = Thread::try_create("pong", play, &players[1], cpu);
    if (second.is_error())
        game.deadline = 0; // make the first give up
    first->join();
    if (!second.is_error())
        second.value()->join();
    uint64_t elapsed = uptime_ns() - start;
    KEXPECT(!second.is_error());
    KEXPECT(!game.timed_out.load());
    KEXPECT_EQ(game.turn.load(), 2 * PingPong::rounds);
    KEXPECT(elapsed < ns_per_second);
}

// A bounded buffer between a producer and a consumer, both waiting on one
// queue for "something changed".
struct Channel {
    static constexpr uint32_t capacity = 4;
    static constexpr uint32_t items = 64;
    WaitQueue changed;
    // Protected by `changed`'s lock.
    uint32_t buffer[capacity] {};
    uint32_t head { 0 };
    uint32_t tail { 0 };
    bool aborted { false };
    // Written by the consumer only.
    uint32_t received { 0 };
    bool in_order { true };
};

void produce(void* argument)
{
    auto& channel = *static_cast<Channel*>(argument);
    for (uint32_t value = 1; value <= Channel::items; ++value) {
        bool aborted = false;
        channel.changed.wait_until([&] {
            aborted = channel.aborted;
            return aborted || channel.tail - channel.head < Channel::capacity;
        });
        if (aborted)
            return;
        channel.changed.change_and_wake_all([&] { channel.buffer[channel.tail++ % Channel::capacity] = value; });
    }
}

void consume(void* argument)
{
    auto& channel = *static_cast<Channel*>(argument);
    for (uint32_t expected = 1; expected <= Channel::items; ++expected) {
        bool aborted = false;
        channel.changed.wait_until([&] {
            aborted = channel.aborted;
            return aborted || channel.head != channel.tail;
        });
        if (aborted)
            return;
        uint32_t value = 0;
        channel.changed.change_and_wake_all([&] { value = channel.buffer[channel.head++ % Channel::capacity]; });
        if (value != expected)
            channel.in_order = false;
        ++channel.received;
    }
}

void wait_queue_producer_consumer()
{
    Channel channel;
    Watchdog watchdog(channel.changed, channel.aborted);
    KEXPECT(watchdog.start());
    auto consumer = Thread::try_create("consumer", consume, &channel);
    auto producer = Thread::try_create("producer", produce, &channel);
    KEXPECT(!consumer.is_error());
    KEXPECT(!producer.is_error());
    if (consumer.is_error() || producer.is_error())
        channel.changed.change_and_wake_all([&] { channel.aborted = true; });
    if (!consumer.is_error())
        consumer.value()->join();
    if (!producer.is_error())
        producer.value()->join();
    watchdog.stop();
    KEXPECT(!channel.aborted);
    KEXPECT_EQ(channel.received, Channel::items);
    KEXPECT(channel.in_order);
}

void exit_at_once(void*) { }

// Every new thread starts by being switched to, on some CPU, so running N
// threads adds at least N switches. (Sleeping need not switch: the tick on
// another CPU may wake the sleeper before it has left the CPU.)
void context_switch_count_increases()
{
    constexpr size_t thread_count = 4;
    uint64_t before = Scheduler::context_switches();
    RefPtr<Thread> threads[thread_count];
    for (auto& thread : threads)
        thread = KMUST(Thread::try_create("short-lived", exit_at_once, nullptr));
    for (auto& thread : threads)
        thread->join();
    KEXPECT(Scheduler::context_switches() >= before + thread_count);
}

} // namespace

// Short-lived threads that sleep, yield and exit in bursts, so wake-ups from
// the tick and exits race with other CPUs' schedulers. Caught a thread
// being taken by a second CPU before the first had switched away from it
// (it was then run after it had died).
void exit_and_wakeup_race_stress()
{
    constexpr size_t rounds = 40;
    constexpr size_t burst = 16;
    kstd::atomic<size_t> finished { 0 };
    for (size_t round = 0; round < rounds; ++round) {
        RefPtr<Thread> threads[burst];
        for (size_t i = 0; i < burst; ++i) {
            threads[i] = KMUST(Thread::try_create(
                "racer",
                [](void* argument) {
                    auto* counter = static_cast<kstd::atomic<size_t>*>(argument);
                    size_t n = counter->fetch_add(0) % 3;
                    if (n == 0)
                        sleep_ns(100000);
                    else if (n == 1)
                        Scheduler::yield();
                    counter->fetch_add(1);
                },
                &finished));
        }
        for (auto& thread : threads)
            thread->join();
    }
    KEXPECT_EQ(finished.load(), rounds * burst);
}

SELFTEST_SUITE(sched_threads, CONFIG_SCHED_SELFTEST, SELFTEST_CASE(create_and_join_with_arguments),
    SELFTEST_CASE(many_threads_all_run), SELFTEST_CASE(preemption_without_yield),
    SELFTEST_CASE(yield_hands_over_the_cpu), SELFTEST_CASE(wait_queue_producer_consumer),
    SELFTEST_CASE(context_switch_count_increases), SELFTEST_CASE(exit_and_wakeup_race_stress));

} // namespace tessera
