#pragma once
// The state machine behind kernel/platform/ending.h, portable so that every
// ordering of panic and exit is host-tested.

#include <kernel/lib/kstd.h>

namespace tessera {

enum class PanicClaim : uint8_t {
    First, // this CPU reports the panic
    Nested, // this CPU is already reporting one (a fault while panicking)
    Other, // another CPU is reporting: halt silently
};

class EndingState {
public:
    constexpr EndingState() = default;

    PanicClaim claim_panic(uint32_t cpu_index);
    bool panic_in_progress() const { return m_state.load() >= panicking; }
    bool panicking_cpu(uint32_t& cpu_index) const;
    // An exit's two steps; false means a panic or another exit won.
    bool claim_exit();
    bool commit_exit();

private:
    static constexpr uint32_t running = 0;
    static constexpr uint32_t exiting = 1;
    static constexpr uint32_t exited = 2;
    static constexpr uint32_t panicking = 0x100; // | cpu index

    // Sequentially consistent: the exit's commit and a panic's claim are
    // ordered against each other, so exactly one sees the other.
    kstd::atomic<uint32_t> m_state { running };
};

} // namespace tessera
