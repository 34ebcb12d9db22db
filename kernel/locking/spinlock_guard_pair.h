#pragma once
// Two spinlocks of the same rank held together (two queue pairs, a send and
// a receive completion queue). The rank checker forbids taking a rank that
// is already held, so two locks of one rank can only be nested through this
// guard: it takes both in address order, so every CPU locking any two of
// them agrees on the order and none can deadlock against another, and it
// records the rank once. Passing the same lock twice takes it once (a
// queue pair whose send and receive CQ are one CQ).
//
//   SpinlockGuardPair guard(qp_a.m_lock, qp_b.m_lock);
//
// While the pair is held no third lock of that rank can be taken (the
// checker panics), which is what keeps the address order a total one.

#include <kernel/locking/spinlock.h>

namespace tessera {

template<LockRank rank>
class [[nodiscard]] SpinlockGuardPair {
public:
    SpinlockGuardPair(Spinlock<rank>& a, Spinlock<rank>& b)
        : m_first(lower_address(a, b) ? a : b)
        , m_second(lower_address(a, b) ? b : a)
        , m_interrupts_were_enabled(arch::save_and_disable_interrupts())
    {
        lock_rank_acquire(rank);
        m_first.spin_acquire();
        if (&m_second != &m_first)
            m_second.spin_acquire();
    }
    ~SpinlockGuardPair()
    {
        if (&m_second != &m_first)
            m_second.spin_release();
        m_first.spin_release();
        lock_rank_release(rank);
        arch::restore_interrupts(m_interrupts_were_enabled);
    }
    SpinlockGuardPair(const SpinlockGuardPair&) = delete;
    SpinlockGuardPair& operator=(const SpinlockGuardPair&) = delete;

private:
    // Compared as integers: `<` on pointers to unrelated objects is unspecified.
    static bool lower_address(Spinlock<rank>& a, Spinlock<rank>& b)
    {
        return reinterpret_cast<uintptr_t>(&a) < reinterpret_cast<uintptr_t>(&b);
    }

    Spinlock<rank>& m_first;
    Spinlock<rank>& m_second;
    bool m_interrupts_were_enabled;
};

} // namespace tessera
