#pragma once
// A sleeping lock. Taken only through MutexGuard or MutexProtected<T>::with();
// never while holding a spinlock or with interrupts off (it may sleep):
// acquiring checks both and panics, naming the held rank.

#include <kernel/console/panic.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/thread_annotations.h>
#include <kernel/locking/sleep_checks.h>
#include <kernel/sched/wait_queue.h>

namespace tessera {

class TA_CAPABILITY("mutex") Mutex {
public:
    Mutex() = default;
    Mutex(const Mutex&) = delete;
    Mutex& operator=(const Mutex&) = delete;

    // Read without the lock: only the current thread stores itself, so the
    // answer about itself is exact.
    bool is_locked_by_current_thread() const { return m_owner.load(kstd::memory_order_acquire) == &current_thread(); }

private:
    friend class MutexGuard;

    void acquire() TA_ACQUIRE() TA_NO_THREAD_SAFETY_ANALYSIS
    {
        Thread* self = prepare_to_acquire();
        m_waiters.wait_until([&] { return try_take(self); });
    }
    ErrorOr<void> acquire_until(uint64_t deadline_ns)
    {
        Thread* self = prepare_to_acquire();
        return m_waiters.wait_until_deadline([&] { return try_take(self); }, deadline_ns);
    }
    void release() TA_RELEASE() TA_NO_THREAD_SAFETY_ANALYSIS
    {
        VERIFY(m_owner.load(kstd::memory_order_relaxed) == &current_thread());
        m_waiters.change_and_wake_one([&] { m_owner.store(nullptr, kstd::memory_order_release); });
    }

    Thread* prepare_to_acquire()
    {
        verify_may_sleep("mutex acquired");
        Thread* self = &current_thread();
        if (m_owner.load(kstd::memory_order_relaxed) == self)
            panic("mutex taken twice by thread %s", self->name());
        return self;
    }
    // Called under m_waiters' lock.
    bool try_take(Thread* self)
    {
        if (m_owner.load(kstd::memory_order_relaxed) != nullptr)
            return false;
        m_owner.store(self, kstd::memory_order_release);
        return true;
    }

    // Written only under m_waiters' lock; read without it by
    // is_locked_by_current_thread().
    kstd::atomic<Thread*> m_owner { nullptr };
    WaitQueue m_waiters;
};

// Holds a Mutex for its lifetime. Movable, so that a timed acquisition can
// hand it back through ErrorOr:
//
//   auto guard = TRY(MutexGuard::try_acquire_for(mutex, 10 * ns_per_ms));
// Not a TA_SCOPED_CAPABILITY: clang's analysis cannot follow a guard moved
// out of try_acquire_for(), so it does not see MutexGuard take the mutex.
class [[nodiscard]] MutexGuard {
public:
    explicit MutexGuard(Mutex& mutex)
        : m_mutex(&mutex)
    {
        m_mutex->acquire();
    }
    // Waits at most `timeout_ns` (rounded up to the scheduler tick) for the
    // mutex; ETIMEDOUT if it stayed held.
    static ErrorOr<MutexGuard> try_acquire_for(Mutex& mutex, uint64_t timeout_ns)
    {
        TRY(mutex.acquire_until(deadline_after_ns(timeout_ns)));
        return MutexGuard(mutex, AlreadyHeld {});
    }
    ~MutexGuard()
    {
        // The analyzer models the error return inside TRY() in
        // `auto guard = TRY(...)` as destroying the guard not yet built.
        // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult)
        if (m_mutex != nullptr)
            m_mutex->release();
    }
    MutexGuard(MutexGuard&& other)
        : m_mutex(kstd::exchange(other.m_mutex, nullptr))
    {
    }
    MutexGuard(const MutexGuard&) = delete;
    MutexGuard& operator=(const MutexGuard&) = delete;
    MutexGuard& operator=(MutexGuard&&) = delete;

private:
    struct AlreadyHeld { };
    MutexGuard(Mutex& mutex, AlreadyHeld)
        : m_mutex(&mutex)
    {
    }

    Mutex* m_mutex { nullptr };
};

template<typename T>
class MutexProtected {
public:
    template<typename... Args>
    explicit MutexProtected(Args&&... args)
        : m_value(kstd::forward<Args>(args)...)
    {
    }

    // The one way to m_value (see MutexGuard on why the analysis is off).
    template<typename Callback>
    decltype(auto) with(Callback callback) TA_NO_THREAD_SAFETY_ANALYSIS
    {
        MutexGuard guard(m_mutex);
        return callback(m_value);
    }

private:
    Mutex m_mutex;
    T m_value TA_GUARDED_BY(m_mutex);
};

} // namespace tessera
