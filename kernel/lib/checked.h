#pragma once
// Checked arithmetic for sizes and addresses that come from outside
// (memory maps, packets, remote messages): overflow is an error, never a wrap.

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

template<kstd::integral T>
constexpr ErrorOr<T> checked_add(T a, T b)
{
    T result;
    if (__builtin_add_overflow(a, b, &result))
        return Error(Errno::OVERFLOW, "addition overflows");
    return result;
}

template<kstd::integral T>
constexpr ErrorOr<T> checked_sub(T a, T b)
{
    T result;
    if (__builtin_sub_overflow(a, b, &result))
        return Error(Errno::OVERFLOW, "subtraction overflows");
    return result;
}

template<kstd::integral T>
constexpr ErrorOr<T> checked_mul(T a, T b)
{
    T result;
    if (__builtin_mul_overflow(a, b, &result))
        return Error(Errno::OVERFLOW, "multiplication overflows");
    return result;
}

template<kstd::unsigned_integral T>
constexpr T align_down(T value, T alignment)
{
    return value & ~(alignment - 1);
}

// Rounds up to a power-of-two alignment; an overflow is an error.
template<kstd::unsigned_integral T>
constexpr ErrorOr<T> checked_align_up(T value, T alignment)
{
    T bumped = TRY(checked_add<T>(value, alignment - 1));
    return align_down(bumped, alignment);
}

template<kstd::unsigned_integral T>
constexpr bool is_power_of_two(T value)
{
    return value != 0 && (value & (value - 1)) == 0;
}

} // namespace tessera
