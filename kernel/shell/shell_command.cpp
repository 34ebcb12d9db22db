#include <kernel/console/console.h>
#include <kernel/lib/string_view.h>
#include <kernel/shell/shell_command.h>

namespace tessera {

namespace {

constexpr size_t max_commands = 8;

struct Command {
    const char* name;
    ShellCommandFunction function;
};

// Filled by init functions (one CPU, before the shell starts) and read by
// the shell afterwards: a slot is written before the count publishes it,
// so no lock is needed.
constinit Command s_commands[max_commands] {};
constinit kstd::atomic<size_t> s_count { 0 };

} // namespace

ErrorOr<void> shell_register_command(const char* name, ShellCommandFunction function)
{
    size_t count = s_count.load(kstd::memory_order_acquire);
    if (shell_find_command(name) != nullptr)
        return Error(Errno::EXIST, "shell: command name taken");
    if (count == max_commands)
        return Error(Errno::NOSPC, "shell: command table full");
    s_commands[count] = { name, function };
    s_count.store(count + 1, kstd::memory_order_release);
    return {};
}

ShellCommandFunction shell_find_command(const char* name)
{
    size_t count = s_count.load(kstd::memory_order_acquire);
    for (size_t i = 0; i < count; ++i) {
        if (StringView(s_commands[i].name) == StringView(name))
            return s_commands[i].function;
    }
    return nullptr;
}

void shell_print_registered_commands()
{
    size_t count = s_count.load(kstd::memory_order_acquire);
    for (size_t i = 0; i < count; ++i)
        console_print(", %s", s_commands[i].name);
}

} // namespace tessera
