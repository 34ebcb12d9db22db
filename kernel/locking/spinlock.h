#pragma once
// Spinlocks are taken only through guards, which save the interrupt flag,
// disable interrupts for the critical section and restore the flag after.
// Data a spinlock protects lives inside SpinlockProtected<T, rank>, reached
// only through with(): there is no way to touch it unlocked.

#include <arch/cpu.h>
#include <kernel/lib/thread_annotations.h>
#include <kernel/locking/lock_rank.h>

namespace tessera {

void lock_rank_acquire(LockRank rank);
void lock_rank_release(LockRank rank);

template<LockRank rank>
class TA_CAPABILITY("spinlock") Spinlock {
public:
    constexpr Spinlock() = default;
    Spinlock(const Spinlock&) = delete;
    Spinlock& operator=(const Spinlock&) = delete;

    bool is_locked() const { return m_locked.load(kstd::memory_order_relaxed); }

private:
    template<LockRank>
    friend class SpinlockGuard;
    template<LockRank>
    friend class SpinlockGuardPair;

    bool acquire() TA_ACQUIRE() TA_NO_THREAD_SAFETY_ANALYSIS
    {
        bool interrupts_were_enabled = arch::save_and_disable_interrupts();
        lock_rank_acquire(rank);
        spin_acquire();
        return interrupts_were_enabled;
    }
    void release(bool interrupts_were_enabled) TA_RELEASE() TA_NO_THREAD_SAFETY_ANALYSIS
    {
        spin_release();
        lock_rank_release(rank);
        arch::restore_interrupts(interrupts_were_enabled);
    }
    // The bare lock word, for guards that do the IRQ and rank bookkeeping
    // themselves (SpinlockGuardPair). Interrupts must be off.
    void spin_acquire()
    {
        while (m_locked.exchange(true, kstd::memory_order_acquire)) {
            while (m_locked.load(kstd::memory_order_relaxed))
                arch::relax();
        }
    }
    void spin_release() { m_locked.store(false, kstd::memory_order_release); }

    kstd::atomic<bool> m_locked { false };
};

template<LockRank rank>
class [[nodiscard]] TA_SCOPED_CAPABILITY SpinlockGuard {
public:
    explicit SpinlockGuard(Spinlock<rank>& lock) TA_ACQUIRE(lock)
        : m_lock(lock)
        , m_interrupts_were_enabled(lock.acquire())
    {
    }
    ~SpinlockGuard() TA_RELEASE() { m_lock.release(m_interrupts_were_enabled); }
    SpinlockGuard(const SpinlockGuard&) = delete;
    SpinlockGuard& operator=(const SpinlockGuard&) = delete;

private:
    Spinlock<rank>& m_lock;
    bool m_interrupts_were_enabled;
};

template<typename T, LockRank rank>
class SpinlockProtected {
public:
    template<typename... Args>
    constexpr explicit SpinlockProtected(Args&&... args)
        : m_value(kstd::forward<Args>(args)...)
    {
    }

    template<typename Callback>
    decltype(auto) with(Callback callback)
    {
        SpinlockGuard guard(m_lock);
        return callback(m_value);
    }

    bool is_locked() const { return m_lock.is_locked(); }

private:
    Spinlock<rank> m_lock;
    T m_value TA_GUARDED_BY(m_lock);
};

} // namespace tessera
