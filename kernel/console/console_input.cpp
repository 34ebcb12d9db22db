#include <kernel/console/console_input.h>
#include <kernel/sched/wait_queue.h>

namespace tessera {

namespace {

// Protected by the wait queue's lock (changed only through change_and_wake_all).
struct InputBuffer {
    char bytes[256];
    size_t head { 0 };
    size_t tail { 0 };
};
InputBuffer s_input;
WaitQueue s_input_ready;

} // namespace

void console_input_push(const char* bytes, size_t count)
{
    if (count == 0)
        return;
    s_input_ready.change_and_wake_all([&] {
        for (size_t i = 0; i < count; ++i) {
            size_t next = (s_input.head + 1) % sizeof(s_input.bytes);
            if (next == s_input.tail)
                return; // full: drop
            s_input.bytes[s_input.head] = bytes[i];
            s_input.head = next;
        }
    });
}

char console_input_read()
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

} // namespace tessera
