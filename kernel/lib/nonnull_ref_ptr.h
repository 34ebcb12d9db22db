#pragma once
// NonnullRefPtr<T>: a counted reference that always points at an object
// (see ref_counted.h for the thread-safety rule). Only a moved-from
// NonnullRefPtr is empty, and touching one is a VERIFY failure.
//
//   auto qp = TRY(try_make_ref_counted<QueuePair>(number));   // count 1
//   NonnullRefPtr<QueuePair> other = qp;                     // count 2

#include <kernel/lib/assert.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

template<typename T>
class [[nodiscard]] NonnullRefPtr {
public:
    enum class Adopt { Tag };

    NonnullRefPtr(T& object)
        : m_pointer(&object)
    {
        object.ref();
    }
    NonnullRefPtr(Adopt, T& object)
        : m_pointer(&object)
    {
    }
    NonnullRefPtr(const NonnullRefPtr& other)
        : NonnullRefPtr(*other.checked())
    {
    }
    NonnullRefPtr(NonnullRefPtr&& other)
        : m_pointer(other.checked())
    {
        other.m_pointer = nullptr;
    }
    template<typename U>
    requires(kstd::is_convertible_v<U*, T*>) NonnullRefPtr(const NonnullRefPtr<U>& other)
        : NonnullRefPtr(static_cast<T&>(*other))
    {
    }
    template<typename U>
    requires(kstd::is_convertible_v<U*, T*>) NonnullRefPtr(NonnullRefPtr<U>&& other)
        : m_pointer(&other.leak_ref())
    {
    }
    ~NonnullRefPtr()
    {
        // The analyzer models the error return inside TRY()/KMUST() in
        // `auto thread = TRY(...)` as destroying the pointer not yet built.
        // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult)
        if (m_pointer != nullptr)
            kstd::exchange(m_pointer, nullptr)->unref();
    }

    NonnullRefPtr& operator=(const NonnullRefPtr& other)
    {
        NonnullRefPtr copy(other); // refs before unref: self-assignment is safe
        swap(copy);
        return *this;
    }
    NonnullRefPtr& operator=(NonnullRefPtr&& other)
    {
        NonnullRefPtr moved(kstd::move(other));
        swap(moved);
        return *this;
    }

    // Gives up this reference without dropping it; the caller must unref().
    [[nodiscard]] T& leak_ref() { return *kstd::exchange(m_pointer, nullptr); }

    T* ptr() const { return checked(); }
    T* operator->() const { return checked(); }
    T& operator*() const { return *checked(); }
    void swap(NonnullRefPtr& other) { kstd::swap(m_pointer, other.m_pointer); }

private:
    T* checked() const
    {
        VERIFY(m_pointer != nullptr); // a moved-from NonnullRefPtr
        return m_pointer;
    }

    T* m_pointer;
};

// Takes over the reference a new RefCounted object starts with.
template<typename T>
NonnullRefPtr<T> adopt_ref(T& object)
{
    return NonnullRefPtr<T>(NonnullRefPtr<T>::Adopt::Tag, object);
}

// Takes over a `new (kstd::nothrow)` result; nullptr is ENOMEM.
template<typename T>
ErrorOr<NonnullRefPtr<T>> adopt_ref_if_nonnull(T* object)
{
    if (object == nullptr)
        return Error(Errno::NOMEM, "out of memory");
    return adopt_ref(*object);
}

template<typename T, typename... Args>
ErrorOr<NonnullRefPtr<T>> try_make_ref_counted(Args&&... args)
{
    return adopt_ref_if_nonnull(new (kstd::nothrow) T(kstd::forward<Args>(args)...));
}

} // namespace tessera
