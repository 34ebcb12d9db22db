#pragma once
// OwnPtr<T>: the single owner of a heap object, deleted when the OwnPtr
// dies. Move-only. Objects come from `new (kstd::nothrow)`, so creation is
// fallible: try_make_own<T>(...) yields ErrorOr<OwnPtr<T>> (ENOMEM), and
// adopt_own_if_nonnull() wraps a raw `new (kstd::nothrow)` result.
//
//   auto queue = TRY(try_make_own<PacketQueue>(depth));

#include <kernel/lib/assert.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

template<typename T>
class [[nodiscard]] OwnPtr {
public:
    OwnPtr() = default;
    OwnPtr(decltype(nullptr)) { }
    OwnPtr(const OwnPtr&) = delete;
    OwnPtr& operator=(const OwnPtr&) = delete;
    OwnPtr(OwnPtr&& other)
        : m_pointer(other.leak_ptr())
    {
    }
    // An OwnPtr<Derived> converts to OwnPtr<Base> (Base needs a virtual
    // destructor, as with any polymorphic delete).
    template<typename U>
    requires(kstd::is_convertible_v<U*, T*>) OwnPtr(OwnPtr<U>&& other)
        : m_pointer(other.leak_ptr())
    {
    }
    ~OwnPtr() { clear(); }

    OwnPtr& operator=(OwnPtr&& other)
    {
        if (this != &other) {
            clear();
            m_pointer = other.leak_ptr();
        }
        return *this;
    }
    template<typename U>
    requires(kstd::is_convertible_v<U*, T*>) OwnPtr& operator=(OwnPtr<U>&& other)
    {
        clear();
        m_pointer = other.leak_ptr();
        return *this;
    }
    OwnPtr& operator=(decltype(nullptr))
    {
        clear();
        return *this;
    }

    // Deletes the object now (if any).
    void clear() { delete kstd::exchange(m_pointer, nullptr); }

    // Gives up ownership without deleting: the caller now owns the object.
    [[nodiscard]] T* leak_ptr() { return kstd::exchange(m_pointer, nullptr); }

    T* ptr() const { return m_pointer; }
    T* operator->() const
    {
        VERIFY(m_pointer != nullptr);
        return m_pointer;
    }
    T& operator*() const
    {
        VERIFY(m_pointer != nullptr);
        return *m_pointer;
    }
    explicit operator bool() const { return m_pointer != nullptr; }
    bool is_null() const { return m_pointer == nullptr; }

private:
    template<typename U>
    friend OwnPtr<U> adopt_own(U*);
    explicit OwnPtr(T* pointer)
        : m_pointer(pointer)
    {
    }

    T* m_pointer { nullptr };
};

// Takes ownership of an object that nobody else owns.
template<typename T>
OwnPtr<T> adopt_own(T* pointer)
{
    return OwnPtr<T>(pointer);
}

// Takes ownership of a `new (kstd::nothrow)` result; nullptr is ENOMEM.
template<typename T>
ErrorOr<OwnPtr<T>> adopt_own_if_nonnull(T* pointer)
{
    if (pointer == nullptr)
        return Error(Errno::NOMEM, "out of memory");
    return adopt_own(pointer);
}

template<typename T, typename... Args>
ErrorOr<OwnPtr<T>> try_make_own(Args&&... args)
{
    return adopt_own_if_nonnull(new (kstd::nothrow) T(kstd::forward<Args>(args)...));
}

} // namespace tessera
