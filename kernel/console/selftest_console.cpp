// The console under contention: lines printed at the same time from every
// CPU reach a sink whole (one line per write, never two mixed) and, per
// CPU, in the order they were printed.
#include <arch/per_cpu.h>
#include <kernel/console/console.h>
#include <kernel/console/console_sink.h>
#include <kernel/lib/format.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/selftest.h>

namespace tessera {

namespace {

constexpr char tag[] = "    # mix ";
constexpr size_t lines_per_cpu = 40;
constexpr size_t payload = 96;

// What the checking sink saw; it is called by one draining CPU at a time.
struct Seen {
    kstd::atomic<bool> active { false };
    kstd::atomic<uint32_t> whole { 0 };
    kstd::atomic<uint32_t> broken { 0 };
    kstd::atomic<uint32_t> out_of_order { 0 };
    uint32_t next[arch::max_cpus] {};
};
constinit Seen s_seen;

bool starts_with_tag(const char* chars, size_t count)
{
    if (count < sizeof(tag) - 1)
        return false;
    for (size_t i = 0; i < sizeof(tag) - 1; ++i)
        if (chars[i] != tag[i])
            return false;
    return true;
}

// "    # mix <cpu> <seq> ====...\n": one newline, at the end, after exactly
// `payload` '=' characters.
void check_write(const char* chars, size_t count)
{
    if (!s_seen.active.load() || !starts_with_tag(chars, count))
        return;
    size_t i = sizeof(tag) - 1;
    uint32_t cpu = 0, sequence = 0;
    while (i < count && chars[i] >= '0' && chars[i] <= '9')
        cpu = cpu * 10 + static_cast<uint32_t>(chars[i++] - '0');
    if (i < count && chars[i] == ' ')
        ++i;
    while (i < count && chars[i] >= '0' && chars[i] <= '9')
        sequence = sequence * 10 + static_cast<uint32_t>(chars[i++] - '0');
    size_t equals = 0;
    if (i < count && chars[i] == ' ')
        ++i;
    while (i < count && chars[i] == '=') {
        ++equals;
        ++i;
    }
    if (equals != payload || i + 1 != count || chars[i] != '\n' || cpu >= arch::max_cpus) {
        s_seen.broken.fetch_add(1);
        return;
    }
    if (s_seen.next[cpu] != sequence)
        s_seen.out_of_order.fetch_add(1);
    s_seen.next[cpu] = sequence + 1;
    s_seen.whole.fetch_add(1);
}

constexpr ConsoleSink s_checker { "selftest-checker", check_write, nullptr };
constinit bool s_checker_registered = false;

void print_lines(void*)
{
    uint32_t cpu = arch::current_cpu_index();
    char line[sizeof(tag) + 32 + payload];
    for (size_t n = 0; n < lines_per_cpu; ++n) {
        size_t used = format(line, sizeof(line), "%s%u %zu ", tag, cpu, n);
        for (size_t i = 0; i < payload; ++i)
            line[used++] = '=';
        line[used++] = '\n';
        console_write(line, used);
    }
}

void concurrent_lines_stay_whole()
{
    if (!s_checker_registered) {
        console_register_sink(s_checker); // sinks stay forever; it idles once inactive
        s_checker_registered = true;
    }
    size_t cpus = arch::cpu_count();
    for (size_t i = 0; i < cpus; ++i)
        s_seen.next[i] = 0;
    s_seen.whole.store(0);
    s_seen.broken.store(0);
    s_seen.out_of_order.store(0);
    s_seen.active.store(true);
    RefPtr<Thread> threads[arch::max_cpus];
    for (size_t i = 0; i < cpus; ++i)
        threads[i] = KMUST(Thread::try_create("console-mix", print_lines, nullptr, static_cast<int>(i)));
    for (size_t i = 0; i < cpus; ++i)
        threads[i]->join();
    console_flush();
    s_seen.active.store(false);
    KEXPECT_EQ(s_seen.broken.load(), 0u);
    KEXPECT_EQ(s_seen.out_of_order.load(), 0u);
    KEXPECT_EQ(s_seen.whole.load(), cpus * lines_per_cpu);
    KEXPECT_EQ(console_dropped_lines(), 0u);
}

// The checker itself can fail: two lines mixed in one write are caught.
void the_check_sees_a_broken_line()
{
    // Planted failure: a write holding two lines must count as broken.
    s_seen.active.store(true);
    uint32_t before = s_seen.broken.load();
    char two[2 * (sizeof(tag) + 8 + payload)];
    size_t used = format(two, sizeof(two), "%s0 0 ", tag);
    for (size_t i = 0; i < payload / 2; ++i)
        two[used++] = '=';
    used += format(two + used, sizeof(two) - used, "%s1 0 ", tag);
    for (size_t i = 0; i < payload; ++i)
        two[used++] = '=';
    two[used++] = '\n';
    check_write(two, used);
    s_seen.active.store(false);
    KEXPECT_EQ(s_seen.broken.load(), before + 1);
}

} // namespace

SELFTEST_SUITE(console_lines, CONFIG_CONSOLE_SELFTEST, SELFTEST_CASE(concurrent_lines_stay_whole),
    SELFTEST_CASE(the_check_sees_a_broken_line));

} // namespace tessera
