#pragma once
// Vector<T>: a growable array whose every growth is fallible. try_append(),
// try_reserve() and try_resize() return ENOMEM (also when the byte size
// would overflow) and leave the vector as it was; nothing here aborts on
// growth. Not copyable (a copy allocates): use try_clone().
//
// Storage comes from `operator new(bytes, kstd::nothrow)`, the kernel heap,
// so a Vector must not grow in IRQ context or under a spinlock the heap
// might need; reserve beforehand, or use an intrusive container there.

#include <kernel/lib/assert.h>
#include <kernel/lib/checked.h>
#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>
#include <kernel/lib/span.h>
#include <kernel/lib/string.h>

namespace tessera {

template<typename T>
class Vector {
    // The kernel heap aligns to 16 bytes.
    static_assert(alignof(T) <= 16, "Vector<T>: over-aligned T");

public:
    Vector() = default;
    Vector(const Vector&) = delete;
    Vector& operator=(const Vector&) = delete;
    Vector(Vector&& other)
        : m_data(kstd::exchange(other.m_data, nullptr))
        , m_size(kstd::exchange(other.m_size, 0))
        , m_capacity(kstd::exchange(other.m_capacity, 0))
    {
    }
    Vector& operator=(Vector&& other)
    {
        if (this != &other) {
            release_storage();
            m_data = kstd::exchange(other.m_data, nullptr);
            m_size = kstd::exchange(other.m_size, 0);
            m_capacity = kstd::exchange(other.m_capacity, 0);
        }
        return *this;
    }
    ~Vector() { release_storage(); }

    size_t size() const { return m_size; }
    size_t capacity() const { return m_capacity; }
    bool is_empty() const { return m_size == 0; }

    T* data() { return m_data; }
    const T* data() const { return m_data; }
    T* begin() { return m_data; }
    T* end() { return m_data + m_size; }
    const T* begin() const { return m_data; }
    const T* end() const { return m_data + m_size; }
    Span<T> span() { return { m_data, m_size }; }
    Span<const T> span() const { return { m_data, m_size }; }

    T& operator[](size_t index)
    {
        VERIFY(index < m_size);
        return m_data[index];
    }
    const T& operator[](size_t index) const
    {
        VERIFY(index < m_size);
        return m_data[index];
    }
    T& first() { return (*this)[0]; }
    T& last() { return (*this)[m_size - 1]; }

    // Makes room for `capacity` elements in total.
    ErrorOr<void> try_reserve(size_t capacity)
    {
        if (capacity <= m_capacity)
            return {};
        return reallocate(capacity, nullptr);
    }

    ErrorOr<void> try_append(const T& value) requires(kstd::is_copy_constructible_v<T>) { return try_emplace(value); }
    ErrorOr<void> try_append(T&& value) { return try_emplace(kstd::move(value)); }

    template<typename... Args>
    ErrorOr<void> try_emplace(Args&&... args)
    {
        if (m_size < m_capacity) {
            new (&m_data[m_size]) T(kstd::forward<Args>(args)...);
            ++m_size;
            return {};
        }
        // Growth constructs the new element before moving the old ones, so
        // `args` may refer into this vector (v.try_append(v[0])).
        size_t needed = TRY(grow_error(checked_add<size_t>(m_size, 1)));
        auto construct = [&](T* slot) { new (slot) T(kstd::forward<Args>(args)...); };
        return reallocate(next_capacity(needed), construct);
    }

    // Grows with default-constructed elements or shrinks by destroying.
    ErrorOr<void> try_resize(size_t size) requires(kstd::is_default_constructible_v<T>)
    {
        if (size < m_size) {
            truncate(size);
            return {};
        }
        TRY(try_reserve(size));
        while (m_size < size) {
            new (&m_data[m_size]) T();
            ++m_size;
        }
        return {};
    }

    // Removes the element at `index`, keeping the order of the rest.
    void remove(size_t index)
    {
        VERIFY(index < m_size);
        for (size_t i = index; i + 1 < m_size; ++i)
            m_data[i] = kstd::move(m_data[i + 1]);
        m_data[m_size - 1].~T();
        --m_size;
    }

    // Removes the element at `index` in O(1) by moving the last one there.
    void unstable_remove(size_t index)
    {
        VERIFY(index < m_size);
        if (index != m_size - 1)
            m_data[index] = kstd::move(m_data[m_size - 1]);
        m_data[m_size - 1].~T();
        --m_size;
    }

    T take_last()
    {
        VERIFY(m_size > 0);
        T value = kstd::move(m_data[m_size - 1]);
        m_data[m_size - 1].~T();
        --m_size;
        return value;
    }

    // Destroys every element; keeps the storage.
    void clear() { truncate(0); }

    ErrorOr<Vector> try_clone() const requires(kstd::is_copy_constructible_v<T>)
    {
        Vector copy;
        TRY(copy.try_reserve(m_size));
        for (const T& value : *this)
            MUST(copy.try_append(value));
        return copy;
    }

private:
    void truncate(size_t size)
    {
        while (m_size > size)
            m_data[--m_size].~T();
    }

    static ErrorOr<size_t> grow_error(ErrorOr<size_t> result)
    {
        if (result.is_error())
            return Error(Errno::NOMEM, "vector size overflows");
        return result.release_value();
    }

    // Doubling, but never less than `needed` nor than a small start.
    size_t next_capacity(size_t needed) const
    {
        size_t doubled;
        if (__builtin_mul_overflow(m_capacity, 2, &doubled))
            doubled = needed;
        size_t capacity = doubled > needed ? doubled : needed;
        return capacity < 4 ? 4 : capacity;
    }

    // Moves the elements into storage for `capacity` elements. If
    // `construct` is given, it first builds one more element at the end.
    template<typename Construct>
    ErrorOr<void> reallocate(size_t capacity, Construct construct)
    {
        size_t bytes = TRY(grow_error(checked_mul(capacity, sizeof(T))));
        auto* data = static_cast<T*>(operator new(bytes, kstd::nothrow));
        if (data == nullptr)
            return Error(Errno::NOMEM, "vector growth");
        if constexpr (!kstd::is_same_v<Construct, decltype(nullptr)>)
            construct(&data[m_size]);
        if constexpr (kstd::is_trivially_copyable_v<T>) {
            if (m_size > 0)
                memcpy(data, m_data, m_size * sizeof(T));
        } else {
            for (size_t i = 0; i < m_size; ++i) {
                new (&data[i]) T(kstd::move(m_data[i]));
                m_data[i].~T();
            }
        }
        operator delete(m_data);
        m_data = data;
        m_capacity = capacity;
        if constexpr (!kstd::is_same_v<Construct, decltype(nullptr)>)
            ++m_size;
        return {};
    }

    void release_storage()
    {
        clear();
        operator delete(m_data);
        m_data = nullptr;
        m_capacity = 0;
    }

    T* m_data { nullptr };
    size_t m_size { 0 };
    size_t m_capacity { 0 };
};

} // namespace tessera
