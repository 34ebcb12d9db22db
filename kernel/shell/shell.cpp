#include <arch/per_cpu.h>
#include <kernel/boot/boot.h>
#include <kernel/console/console.h>
#include <kernel/console/console_input.h>
#include <kernel/irq/irq.h>
#include <kernel/memory/kernel_heap.h>
#include <kernel/memory/physical.h>
#include <kernel/platform/exit.h>
#include <kernel/sched/scheduler.h>
#include <kernel/shell/shell.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

struct RegisteredCommand {
    const char* name;
    const char* help;
    ShellCommandFunction function;
};

constexpr size_t max_registered_commands = 8;
// Written only by init functions, before the shell runs; read by the shell.
RegisteredCommand s_commands[max_registered_commands];
size_t s_command_count = 0;

const RegisteredCommand* find_registered(StringView name)
{
    for (size_t i = 0; i < s_command_count; ++i) {
        if (name == s_commands[i].name)
            return &s_commands[i];
    }
    return nullptr;
}

void print_help()
{
    console_print("commands: uptime, cpus, mem, irq, config, poweroff");
    for (size_t i = 0; i < s_command_count; ++i)
        console_print(", %s", s_commands[i].name);
    console_print("\n");
    for (size_t i = 0; i < s_command_count; ++i)
        console_print("  %-10s %s\n", s_commands[i].name, s_commands[i].help);
}

char read_char() { return console_input_read(); }

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

void print_interrupts()
{
    IrqInfo vectors[32];
    size_t count = irq_list(vectors, sizeof(vectors) / sizeof(vectors[0]));
    for (size_t i = 0; i < count && i < sizeof(vectors) / sizeof(vectors[0]); ++i)
        console_print("vector %#04x %-12s %llu\n", vectors[i].vector, vectors[i].name ? vectors[i].name : "?",
            static_cast<unsigned long long>(vectors[i].count));
    console_print("spurious %llu, unclaimed %llu\n", static_cast<unsigned long long>(irq_spurious_count()),
        static_cast<unsigned long long>(irq_unclaimed_count()));
}

void print_config()
{
    char summary[256];
    format_node_config(node_config(), summary, sizeof(summary));
    console_print("%s\n", summary);
}

} // namespace

ErrorOr<void> shell_register_command(const char* name, const char* help, ShellCommandFunction function)
{
    if (find_registered(StringView(name)) != nullptr)
        return Error(Errno::EXIST, "shell: command already registered");
    if (s_command_count == max_registered_commands)
        return Error(Errno::NOSPC, "shell: command table full");
    s_commands[s_command_count++] = { name, help, function };
    return {};
}

void shell_run()
{
    console_print("\nTessera is up. Type 'help' for commands; Ctrl-A X leaves QEMU.\n");
    char line[128];
    for (;;) {
        console_print("tessera> ");
        read_line(line, sizeof(line));
        StringView command(line);
        if (command.is_empty())
            continue;
        if (command == "help")
            print_help();
        else if (command == "uptime")
            print_uptime();
        else if (command == "cpus")
            print_cpus();
        else if (command == "mem")
            print_memory();
        else if (command == "irq" || command == "interrupts")
            print_interrupts();
        else if (command == "config")
            print_config();
        else if (command == "poweroff") {
            console_print("powering off\n");
            platform_exit(ExitCode::Success);
        } else if (const RegisteredCommand* registered = find_registered(command))
            registered->function();
        else
            console_print("unknown command '%s'; try 'help'\n", line);
    }
}

} // namespace tessera
