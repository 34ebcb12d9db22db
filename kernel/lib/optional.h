#pragma once
// Optional<T>: a T or nothing, for results where "absent" is not an error
// (a lookup that missed, a ring buffer that is empty). value() on an empty
// Optional is a VERIFY failure; value_or() gives a fallback. Works for
// non-trivial and move-only T (OwnPtr, NonnullRefPtr).

#include <kernel/lib/assert.h>
#include <kernel/lib/kstd.h>

namespace tessera {

template<typename T>
class [[nodiscard]] Optional {
    static_assert(!kstd::is_lvalue_reference_v<T>, "Optional<T&>: use a T* instead");

public:
    Optional() = default;
    Optional(const T& value) requires(kstd::is_copy_constructible_v<T>) { emplace(value); }
    Optional(T&& value) { emplace(kstd::move(value)); }
    template<typename U>
    requires(!kstd::is_same_v<kstd::remove_cvref_t<U>,
                 Optional> && !kstd::is_same_v<kstd::remove_cvref_t<U>, T> && kstd::is_constructible_v<T, U&&>)
        Optional(U&& value)
    {
        emplace(kstd::forward<U>(value));
    }

    Optional(const Optional& other) requires(kstd::is_copy_constructible_v<T>)
    {
        if (other.m_has_value)
            emplace(other.m_storage.value);
    }
    Optional(Optional&& other) requires(kstd::is_move_constructible_v<T>)
    {
        if (other.m_has_value)
            emplace(kstd::move(other.m_storage.value));
    }
    ~Optional() { clear(); }

    Optional& operator=(const Optional& other) requires(kstd::is_copy_constructible_v<T>)
    {
        if (this != &other) {
            clear();
            if (other.m_has_value)
                emplace(other.m_storage.value);
        }
        return *this;
    }
    Optional& operator=(Optional&& other) requires(kstd::is_move_constructible_v<T>)
    {
        if (this != &other) {
            clear();
            if (other.m_has_value)
                emplace(kstd::move(other.m_storage.value));
        }
        return *this;
    }

    template<typename... Args>
    T& emplace(Args&&... args)
    {
        clear();
        new (&m_storage.value) T(kstd::forward<Args>(args)...);
        m_has_value = true;
        return m_storage.value;
    }

    void clear()
    {
        if (m_has_value) {
            m_has_value = false;
            m_storage.value.~T();
        }
    }

    bool has_value() const { return m_has_value; }
    explicit operator bool() const { return m_has_value; }

    T& value() &
    {
        VERIFY(m_has_value);
        return m_storage.value;
    }
    const T& value() const&
    {
        VERIFY(m_has_value);
        return m_storage.value;
    }
    // Moves the value out and leaves the Optional empty.
    T release_value()
    {
        VERIFY(m_has_value);
        T released = kstd::move(m_storage.value);
        clear();
        return released;
    }

    template<typename U>
    T value_or(U&& fallback) const& requires(kstd::is_copy_constructible_v<T>)
    {
        return m_has_value ? m_storage.value : static_cast<T>(kstd::forward<U>(fallback));
    }
    template<typename U>
    T value_or(U&& fallback) &&
    {
        return m_has_value ? kstd::move(m_storage.value) : static_cast<T>(kstd::forward<U>(fallback));
    }

    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }

    bool operator==(const Optional& other) const requires(requires(const T& a) { a == a; })
    {
        if (m_has_value != other.m_has_value)
            return false;
        return !m_has_value || m_storage.value == other.m_storage.value;
    }

private:
    union Storage {
        Storage() { }
        ~Storage() { }
        T value;
    } m_storage;
    bool m_has_value { false };
};

} // namespace tessera
