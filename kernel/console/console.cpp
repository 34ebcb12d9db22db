#include <arch/cpu.h>
#include <arch/per_cpu.h>
#include <kernel/console/console.h>
#include <kernel/console/console_fault_injection.h>
#include <kernel/console/console_sink.h>
#include <kernel/console/lib/log_ring.h>
#include <kernel/console/panic.h>
#include <kernel/lib/format.h>
#include <kernel/locking/spinlock.h>
#include <kernel/platform/ending.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

constexpr int32_t no_cpu = -1;
constexpr size_t max_sinks = 4;
constexpr size_t ring_bytes = 64 * 1024;

uint8_t s_ring_bytes[ring_bytes];
// Protected by s_ring_lock, which is held only to copy a record in or out.
constinit LogRing s_ring(s_ring_bytes, ring_bytes);
constinit Spinlock<LockRank::Console> s_ring_lock;
// The CPU holding s_ring_lock: taking it again on that CPU would spin
// forever, so it panics instead.
constinit kstd::atomic<int32_t> s_ring_owner { no_cpu };
// The CPU writing ring records to the sinks (one at a time keeps lines whole
// and in order); no_cpu when nobody drains.
constinit kstd::atomic<int32_t> s_drainer { no_cpu };
constinit kstd::atomic<uint64_t> s_dropped { 0 };
constinit kstd::atomic<uint64_t> s_dropped_reported { 0 };

constinit kstd::atomic<const ConsoleSink*> s_sinks[max_sinks] {};
constinit kstd::atomic<size_t> s_sink_count { 0 };

constinit LogLevel s_log_level = LogLevel::Info;

const char* level_tag(LogLevel level)
{
    switch (level) {
    case LogLevel::Debug:
        return "debug: ";
    case LogLevel::Info:
        return "";
    case LogLevel::Warn:
        return "warning: ";
    case LogLevel::Error:
        return "error: ";
    }
    return "";
}

void write_to_sinks(const char* chars, size_t count)
{
    size_t sinks = s_sink_count.load(kstd::memory_order_acquire);
    for (size_t i = 0; i < sinks && i < max_sinks; ++i) {
        const ConsoleSink* sink = s_sinks[i].load(kstd::memory_order_acquire);
        if (sink != nullptr)
            sink->write(chars, count);
    }
}

int32_t this_cpu_index() { return static_cast<int32_t>(arch::this_cpu_local().index); }

// Whether this CPU reports a panic: its output bypasses the ring.
bool this_cpu_owns_panic()
{
    uint32_t cpu = 0;
    if (!ending_panicking_cpu(cpu))
        return false;
    bool interrupts = arch::save_and_disable_interrupts();
    bool mine = static_cast<uint32_t>(this_cpu_index()) == cpu;
    arch::restore_interrupts(interrupts);
    return mine;
}

// Runs `operation` on the ring under its lock, panicking (through the
// lock-free path) if this CPU already holds the lock.
template<typename Operation>
auto with_ring(Operation operation)
{
    bool interrupts = arch::save_and_disable_interrupts();
    int32_t me = this_cpu_index();
    if (s_ring_owner.load(kstd::memory_order_relaxed) == me) [[unlikely]]
        panic("console: CPU %d took the console lock it already holds", me);
    decltype(operation(s_ring)) result;
    {
        SpinlockGuard guard(s_ring_lock);
        s_ring_owner.store(me, kstd::memory_order_relaxed);
        result = operation(s_ring);
        s_ring_owner.store(no_cpu, kstd::memory_order_relaxed);
    }
    arch::restore_interrupts(interrupts);
    return result;
}

void report_drops()
{
    uint64_t dropped = s_dropped.load(kstd::memory_order_relaxed);
    uint64_t reported = s_dropped_reported.exchange(dropped, kstd::memory_order_relaxed);
    if (dropped == reported)
        return;
    char note[64];
    size_t length = format(note, sizeof(note), "console: %llu lines dropped (ring full)\n",
        static_cast<unsigned long long>(dropped - reported));
    write_to_sinks(note, length < sizeof(note) ? length : sizeof(note) - 1);
}

// Writes ring records to the sinks until the ring is empty, unless another
// drainer is at work (it will write ours too).
void drain()
{
    if (s_sink_count.load(kstd::memory_order_acquire) == 0)
        return; // early boot: lines wait for the first sink
    for (;;) {
        int32_t expected = no_cpu;
        bool interrupts = arch::save_and_disable_interrupts();
        int32_t me = this_cpu_index();
        arch::restore_interrupts(interrupts);
        if (!s_drainer.compare_exchange_strong(expected, me, kstd::memory_order_acquire))
            return;
        char line[LogRing::max_record];
        for (;;) {
            size_t length = with_ring([&](LogRing& ring) { return ring.pop(line, sizeof(line)); });
            if (length == 0)
                break;
            write_to_sinks(line, length);
        }
        report_drops();
        s_drainer.store(no_cpu, kstd::memory_order_release);
        // A record pushed after our last pop, by a CPU that saw us draining,
        // would otherwise wait for the next print.
        if (with_ring([](LogRing& ring) { return ring.is_empty(); }))
            return;
    }
}

void push_line(const char* chars, size_t count)
{
    for (;;) {
        if (with_ring([&](LogRing& ring) { return ring.push(chars, count); }))
            return;
        if (s_drainer.load(kstd::memory_order_acquire) == no_cpu
            && s_sink_count.load(kstd::memory_order_acquire) != 0) {
            drain();
            continue;
        }
        // Waiting is safe only where the drainer can run: with interrupts
        // on, a drainer preempted on this CPU gets it back. Before any sink
        // the ring only empties when one registers.
        if (!arch::interrupts_enabled() || s_sink_count.load(kstd::memory_order_acquire) == 0) {
            s_dropped.fetch_add(1, kstd::memory_order_relaxed);
            return;
        }
        arch::relax();
    }
}

} // namespace

void console_register_sink(const ConsoleSink& sink)
{
    size_t slot = s_sink_count.load(kstd::memory_order_relaxed);
    if (slot >= max_sinks)
        return;
    s_sinks[slot].store(&sink, kstd::memory_order_release);
    s_sink_count.store(slot + 1, kstd::memory_order_release);
    drain();
}

void console_set_log_level(LogLevel level) { s_log_level = level; }

void console_write(const char* chars, size_t count)
{
    if (this_cpu_owns_panic()) [[unlikely]] {
        write_to_sinks(chars, count);
        return;
    }
    push_line(chars, count);
    drain();
}

void console_print_unlocked(const char* fmt, ...)
{
    char line[256];
    va_list args;
    va_start(args, fmt);
    size_t length = vformat(line, sizeof(line), fmt, args);
    va_end(args);
    write_to_sinks(line, length < sizeof(line) ? length : sizeof(line) - 1);
}

void console_print(const char* fmt, ...)
{
    char line[512];
    va_list args;
    va_start(args, fmt);
    size_t length = vformat(line, sizeof(line), fmt, args);
    va_end(args);
    console_write(line, length < sizeof(line) - 1 ? length : sizeof(line) - 1);
}

void log(LogLevel level, const char* fmt, ...)
{
    if (level < s_log_level)
        return;
    uint64_t ns = uptime_ns();
    char line[512];
    size_t used = format(line, sizeof(line), "[%5llu.%06llu] %s", static_cast<unsigned long long>(ns / 1000000000),
        static_cast<unsigned long long>(ns / 1000 % 1000000), level_tag(level));
    va_list args;
    va_start(args, fmt);
    used += vformat(line + used, sizeof(line) - used - 1, fmt, args);
    va_end(args);
    if (used > sizeof(line) - 2)
        used = sizeof(line) - 2;
    line[used++] = '\n';
    console_write(line, used);
}

void console_flush()
{
    drain();
    // Another CPU may be draining; give it a bounded while to finish.
    for (uint64_t spins = 0; spins < 50000000; ++spins) {
        if (s_drainer.load(kstd::memory_order_acquire) == no_cpu
            && with_ring([](LogRing& ring) { return ring.is_empty(); }))
            break;
        arch::relax();
    }
    console_flush_sinks();
}

void console_take_over_for_panic()
{
    // The ring's lock free means no CPU was stopped in the middle of a copy;
    // the others are halted (or about to be), so the records are stable.
    if (s_ring_lock.is_locked())
        return;
    char line[LogRing::max_record];
    for (size_t length = s_ring.pop(line, sizeof(line)); length != 0; length = s_ring.pop(line, sizeof(line)))
        write_to_sinks(line, length);
}

void console_flush_sinks()
{
    size_t sinks = s_sink_count.load(kstd::memory_order_acquire);
    for (size_t i = 0; i < sinks && i < max_sinks; ++i) {
        const ConsoleSink* sink = s_sinks[i].load(kstd::memory_order_acquire);
        if (sink != nullptr && sink->flush != nullptr)
            sink->flush();
    }
}

void console_call_under_lock(void (*callback)())
{
    with_ring([&](LogRing&) {
        callback();
        return true;
    });
}

uint64_t console_dropped_lines() { return s_dropped.load(kstd::memory_order_relaxed); }

} // namespace tessera
