#include <arch/apic.h>
#include <arch/interrupts.h>
#include <arch/per_cpu.h>
#include <drivers/qemu/debug_exit.h>
#include <drivers/serial/serial.h>
#include <kernel/boot/boot.h>
#include <kernel/console/console.h>
#include <kernel/memory/kernel_heap.h>
#include <kernel/memory/physical.h>
#include <kernel/sched/scheduler.h>
#include <kernel/sched/wait_queue.h>
#include <kernel/shell/shell.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

// Bytes from the UART, filled by the interrupt handler. Protected by the
// wait queue's lock (changed only through change_and_wake_all).
struct InputBuffer {
    char bytes[256];
    size_t head { 0 };
    size_t tail { 0 };
};
InputBuffer s_input;
WaitQueue s_input_ready;

// Moves every byte the UART holds into s_input and wakes the reader.
void drain_uart()
{
    s_input_ready.change_and_wake_all([] {
        for (int c = serial_try_read(); c >= 0; c = serial_try_read()) {
            size_t next = (s_input.head + 1) % sizeof(s_input.bytes);
            if (next != s_input.tail) { // drop input when full
                s_input.bytes[s_input.head] = static_cast<char>(c);
                s_input.head = next;
            }
        }
    });
}

void serial_interrupt(arch::RegisterState&)
{
    drain_uart();
    arch::lapic_end_of_interrupt();
}

char read_char()
{
    char c = 0;
    s_input_ready.wait_until([&] {
        if (s_input.head == s_input.tail)
            return false;
        c = s_input.bytes[s_input.tail];
        s_input.tail = (s_input.tail + 1) % sizeof(s_input.bytes);
        return true;
    });
    return c;
}

size_t read_line(char* line, size_t capacity)
{
    size_t length = 0;
    for (;;) {
        char c = read_char();
        if (c == '\r' || c == '\n') {
            console_write("\n", 1);
            line[length] = '\0';
            return length;
        }
        if ((c == 0x7f || c == '\b') && length > 0) {
            --length;
            console_write("\b \b", 3);
            continue;
        }
        if (c >= 0x20 && c < 0x7f && length + 1 < capacity) {
            line[length++] = c;
            console_write(&c, 1);
        }
    }
}

void print_uptime()
{
    uint64_t ns = uptime_ns();
    console_print("up %llu.%03llu s, %zu cpus, %llu context switches\n",
        static_cast<unsigned long long>(ns / ns_per_second), static_cast<unsigned long long>(ns / ns_per_ms % 1000),
        arch::cpu_count(), static_cast<unsigned long long>(Scheduler::context_switches()));
}

void print_memory()
{
    auto stats = physical_memory_stats();
    console_print("physical: %llu KiB total, %llu KiB free; heap: %zu bytes in use\n",
        static_cast<unsigned long long>(stats.total_pages) * 4, static_cast<unsigned long long>(stats.free_pages) * 4,
        kernel_heap_bytes_in_use());
}

void print_cpus()
{
    for (size_t i = 0; i < arch::cpu_count(); ++i) {
        auto& cpu = arch::cpu_at(i);
        console_print("cpu %zu: apic id %u, %llu timer ticks\n", i, cpu.apic_id,
            static_cast<unsigned long long>(cpu.local.timer_ticks));
    }
}

void print_config()
{
    char summary[256];
    format_node_config(node_config(), summary, sizeof(summary));
    console_print("%s\n", summary);
}

} // namespace

void shell_run()
{
    arch::register_interrupt_handler(arch::vector::first_irq + serial_irq, serial_interrupt);
    if (arch::ioapic_route_isa_irq(serial_irq, arch::vector::first_irq + serial_irq, arch::this_cpu().apic_id)
            .is_error()) {
        warnln("shell: cannot route the serial interrupt; no shell");
        for (;;)
            sleep_ms(1000);
    }
    serial_enable_receive_interrupt();
    // Bytes that arrived before the interrupt was enabled raise no interrupt.
    drain_uart();
    console_print("\nTessera is up. Type 'help' for commands; Ctrl-A X leaves QEMU.\n");
    char line[128];
    for (;;) {
        console_print("tessera> ");
        read_line(line, sizeof(line));
        StringView command(line);
        if (command.is_empty())
            continue;
        if (command == "help")
            console_print("commands: uptime, cpus, mem, config, poweroff\n");
        else if (command == "uptime")
            print_uptime();
        else if (command == "cpus")
            print_cpus();
        else if (command == "mem")
            print_memory();
        else if (command == "config")
            print_config();
        else if (command == "poweroff") {
            console_print("powering off\n");
            exit_qemu(ExitCode::Success);
        } else
            console_print("unknown command '%s'; try 'help'\n", line);
    }
}

} // namespace tessera
