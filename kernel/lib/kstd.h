#pragma once
// The curated subset of the C++ standard library that kernel code may use.
// Only freestanding headers are pulled in; kernel code names these through
// `kstd::` and never through `std::` (enforced at the end of this file when
// building the kernel).

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <new>
#include <type_traits>
#include <utility>

namespace kstd {
using std::add_const_t;
using std::addressof;
using std::align_val_t;
using std::atomic;
using std::atomic_ref;
using std::atomic_thread_fence;
using std::conditional_t;
using std::convertible_to;
using std::decay_t;
using std::declval;
using std::enable_if_t;
using std::exchange;
using std::forward;
using std::initializer_list;
using std::integral;
using std::is_base_of_v;
using std::is_const_v;
using std::is_constructible_v;
using std::is_convertible_v;
using std::is_copy_assignable_v;
using std::is_copy_constructible_v;
using std::is_default_constructible_v;
using std::is_integral_v;
using std::is_lvalue_reference_v;
using std::is_move_assignable_v;
using std::is_move_constructible_v;
using std::is_pointer_v;
using std::is_same_v;
using std::is_signed_v;
using std::is_trivially_copyable_v;
using std::is_trivially_destructible_v;
using std::is_unsigned_v;
using std::launder;
using std::make_unsigned_t;
using std::memory_order_acq_rel;
using std::memory_order_acquire;
using std::memory_order_relaxed;
using std::memory_order_release;
using std::memory_order_seq_cst;
using std::move;
using std::nothrow;
using std::nothrow_t;
using std::numeric_limits;
using std::ptrdiff_t;
using std::remove_const_t;
using std::remove_cvref_t;
using std::remove_reference_t;
using std::same_as;
using std::size_t;
using std::swap;
using std::unsigned_integral;
} // namespace kstd

#if defined(TESSERA_KERNEL) && TESSERA_KERNEL
// Any later `std::` in kernel code is a compile error that says what to use.
#    define std static_assert(false, "kernel code uses kstd::, not std::")
#endif
