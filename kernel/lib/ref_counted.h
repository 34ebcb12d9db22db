#pragma once
// RefCounted<T>: an intrusive, atomic reference count for objects shared
// through RefPtr / NonnullRefPtr. A new object starts with one reference,
// which adopt_ref() takes over. When the last reference goes, the object's
// optional `void will_be_destroyed()` hook runs (no virtual call needed),
// then `delete` on the most-derived T.
//
// Thread safety: the count is atomic, so references to one object may be
// taken and dropped concurrently on any CPU. What is *not* safe without a
// lock: two CPUs touching the same RefPtr variable (one reading or copying it
// while another assigns or clears it), and the object's own data. The last
// unref() runs the destructor on whichever CPU drops it, so a type whose
// destructor sleeps or takes a mutex must not lose its last reference in IRQ
// context or under a spinlock.
//
//   class QueuePair : public RefCounted<QueuePair> { ... };

#include <kernel/lib/assert.h>
#include <kernel/lib/kstd.h>

namespace tessera {

template<typename T>
class RefCounted {
public:
    RefCounted(const RefCounted&) = delete;
    RefCounted& operator=(const RefCounted&) = delete;

    void ref() const
    {
        // Relaxed is enough: a new reference is made from an existing one,
        // which already orders the object's construction before us.
        uint32_t old = m_ref_count.fetch_add(1, kstd::memory_order_relaxed);
        VERIFY(old != 0); // resurrecting a dying object
        VERIFY(old != kstd::numeric_limits<uint32_t>::max());
    }

    // Returns true if this dropped the last reference (the object is gone).
    bool unref() const
    {
        // Release so our writes to the object happen before its destruction
        // on another CPU; acquire so the destroying CPU sees everyone's writes.
        uint32_t old = m_ref_count.fetch_sub(1, kstd::memory_order_acq_rel);
        VERIFY(old != 0); // unref of a dead object
        if (old != 1)
            return false;
        auto* object = const_cast<T*>(static_cast<const T*>(this));
        if constexpr (requires { object->will_be_destroyed(); })
            object->will_be_destroyed();
        delete object;
        return true;
    }

    uint32_t ref_count() const { return m_ref_count.load(kstd::memory_order_relaxed); }

protected:
    RefCounted() = default;
    ~RefCounted() { VERIFY(m_ref_count.load(kstd::memory_order_relaxed) == 0); }

private:
    mutable kstd::atomic<uint32_t> m_ref_count { 1 };
};

} // namespace tessera
