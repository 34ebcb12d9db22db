#pragma once
// ErrorOr<T>: a value or an Error (a Linux errno). Propagate with TRY(),
// assert success with MUST(). Both are statement expressions.

#include <kernel/lib/assert.h>
#include <kernel/lib/error.h>
#include <kernel/lib/kstd.h>

namespace tessera {

template<typename T>
class [[nodiscard]] ErrorOr {
public:
    ErrorOr(const T& value)
        : m_has_value(true)
    {
        new (&m_storage.value) T(value);
    }
    ErrorOr(T&& value)
        : m_has_value(true)
    {
        new (&m_storage.value) T(kstd::move(value));
    }
    template<typename U>
    requires(
        !kstd::is_same_v<kstd::remove_cvref_t<U>,
            T> && !kstd::is_same_v<kstd::remove_cvref_t<U>, Error> && !kstd::is_same_v<kstd::remove_cvref_t<U>, ErrorOr<T>> && kstd::convertible_to<U, T>)
        ErrorOr(U&& value)
        : m_has_value(true)
    {
        new (&m_storage.value) T(kstd::forward<U>(value));
    }
    ErrorOr(Error error)
        : m_has_value(false)
    {
        new (&m_storage.error) Error(error);
    }
    ErrorOr(ErrorOr&& other)
        : m_has_value(other.m_has_value)
    {
        if (m_has_value)
            new (&m_storage.value) T(kstd::move(other.m_storage.value));
        else
            new (&m_storage.error) Error(other.m_storage.error);
    }
    ErrorOr(const ErrorOr&) = delete;
    ErrorOr& operator=(const ErrorOr&) = delete;
    ErrorOr& operator=(ErrorOr&&) = delete;
    ~ErrorOr()
    {
        if (m_has_value)
            m_storage.value.~T();
    }

    bool is_error() const { return !m_has_value; }
    Error error() const
    {
        VERIFY(!m_has_value);
        return m_storage.error;
    }
    T& value()
    {
        VERIFY(m_has_value);
        return m_storage.value;
    }
    const T& value() const
    {
        VERIFY(m_has_value);
        return m_storage.value;
    }
    T release_value()
    {
        VERIFY(m_has_value);
        return kstd::move(m_storage.value);
    }
    Error release_error() { return error(); }

private:
    union Storage {
        Storage() { }
        ~Storage() { }
        T value;
        Error error;
    } m_storage;
    bool m_has_value;
};

template<>
class [[nodiscard]] ErrorOr<void> {
public:
    ErrorOr() = default;
    ErrorOr(Error error)
        : m_error(error)
        , m_has_error(true)
    {
    }
    bool is_error() const { return m_has_error; }
    Error error() const
    {
        VERIFY(m_has_error);
        return m_error;
    }
    void release_value() { }
    Error release_error() { return error(); }

private:
    Error m_error { Errno::INVAL };
    bool m_has_error { false };
};

} // namespace tessera

// Evaluates `expression`; on error returns the error from the enclosing
// function, otherwise yields the value.
#define TRY(expression)                                                                                                \
    ({                                                                                                                 \
        auto&& _tessera_result = (expression);                                                                         \
        if (_tessera_result.is_error()) [[unlikely]]                                                                   \
            return _tessera_result.release_error();                                                                    \
        _tessera_result.release_value();                                                                               \
    })

// Evaluates `expression` and panics (kernel) or aborts (host) on error.
#define MUST(expression)                                                                                               \
    ({                                                                                                                 \
        auto&& _tessera_result = (expression);                                                                         \
        VERIFY(!_tessera_result.is_error());                                                                           \
        _tessera_result.release_value();                                                                               \
    })
