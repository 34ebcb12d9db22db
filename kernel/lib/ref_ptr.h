#pragma once
// RefPtr<T>: a counted reference that may be null (see ref_counted.h for the
// thread-safety rule). Built from a NonnullRefPtr, or from a raw T* to an
// object that is already shared, which it refs. It never adopts: a new
// object goes through adopt_ref() / try_make_ref_counted() first.

#include <kernel/lib/kstd.h>
#include <kernel/lib/nonnull_ref_ptr.h>
#include <kernel/lib/ref_counted.h>

namespace tessera {

template<typename T>
class [[nodiscard]] RefPtr {
public:
    RefPtr() = default;
    RefPtr(decltype(nullptr)) { }
    RefPtr(T* object)
        : m_pointer(object)
    {
        if (object != nullptr)
            object->ref();
    }
    RefPtr(T& object)
        : RefPtr(&object)
    {
    }
    RefPtr(const RefPtr& other)
        : RefPtr(other.m_pointer)
    {
    }
    RefPtr(RefPtr&& other)
        : m_pointer(kstd::exchange(other.m_pointer, nullptr))
    {
    }
    template<typename U>
    requires(kstd::is_convertible_v<U*, T*>) RefPtr(const RefPtr<U>& other)
        : RefPtr(other.ptr())
    {
    }
    template<typename U>
    requires(kstd::is_convertible_v<U*, T*>) RefPtr(RefPtr<U>&& other)
        : m_pointer(other.leak_ref())
    {
    }
    template<typename U>
    requires(kstd::is_convertible_v<U*, T*>) RefPtr(const NonnullRefPtr<U>& other)
        : RefPtr(other.ptr())
    {
    }
    template<typename U>
    requires(kstd::is_convertible_v<U*, T*>) RefPtr(NonnullRefPtr<U>&& other)
        : m_pointer(&other.leak_ref())
    {
    }
    ~RefPtr() { clear(); }

    RefPtr& operator=(const RefPtr& other)
    {
        RefPtr copy(other); // refs before unref: self-assignment is safe
        swap(copy);
        return *this;
    }
    RefPtr& operator=(RefPtr&& other)
    {
        RefPtr moved(kstd::move(other));
        swap(moved);
        return *this;
    }
    RefPtr& operator=(decltype(nullptr))
    {
        clear();
        return *this;
    }

    void clear()
    {
        // The analyzer models the error return inside TRY()/KMUST() in
        // `auto thread = TRY(...)` as destroying the pointer not yet built.
        // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult)
        if (m_pointer != nullptr)
            kstd::exchange(m_pointer, nullptr)->unref();
    }

    // Gives up this reference without dropping it; the caller must unref().
    [[nodiscard]] T* leak_ref() { return kstd::exchange(m_pointer, nullptr); }

    // Hands this reference to a NonnullRefPtr; VERIFYs non-null.
    NonnullRefPtr<T> release_nonnull()
    {
        VERIFY(m_pointer != nullptr);
        return adopt_ref(*leak_ref());
    }

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
    void swap(RefPtr& other) { kstd::swap(m_pointer, other.m_pointer); }

private:
    T* m_pointer { nullptr };
};

} // namespace tessera
