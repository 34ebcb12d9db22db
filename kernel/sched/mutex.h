#pragma once
// A sleeping lock. Taken only through MutexGuard or MutexProtected<T>::with();
// never while holding a spinlock (it may sleep).

#include <kernel/console/panic.h>
#include <kernel/sched/wait_queue.h>

namespace tessera {

class Mutex {
public:
    Mutex() = default;
    Mutex(const Mutex&) = delete;
    Mutex& operator=(const Mutex&) = delete;

    bool is_locked_by_current_thread() const { return m_owner == &current_thread(); }

private:
    friend class MutexGuard;

    void acquire()
    {
        Thread* self = &current_thread();
        if (m_owner == self)
            panic("mutex taken twice by thread %s", self->name());
        m_waiters.wait_until([&] {
            if (m_owner != nullptr)
                return false;
            m_owner = self;
            return true;
        });
    }
    void release()
    {
        VERIFY(m_owner == &current_thread());
        m_waiters.change_and_wake_one([&] { m_owner = nullptr; });
    }

    // Written only under m_waiters' lock.
    Thread* volatile m_owner { nullptr };
    WaitQueue m_waiters;
};

class [[nodiscard]] MutexGuard {
public:
    explicit MutexGuard(Mutex& mutex)
        : m_mutex(mutex)
    {
        m_mutex.acquire();
    }
    ~MutexGuard() { m_mutex.release(); }
    MutexGuard(const MutexGuard&) = delete;
    MutexGuard& operator=(const MutexGuard&) = delete;

private:
    Mutex& m_mutex;
};

template<typename T>
class MutexProtected {
public:
    template<typename... Args>
    explicit MutexProtected(Args&&... args)
        : m_value(kstd::forward<Args>(args)...)
    {
    }
    template<typename Callback>
    decltype(auto) with(Callback callback)
    {
        MutexGuard guard(m_mutex);
        return callback(m_value);
    }

private:
    Mutex m_mutex;
    T m_value;
};

} // namespace tessera
