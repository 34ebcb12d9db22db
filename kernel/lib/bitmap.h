#pragma once
// A view of a bitmap stored in caller-provided 64-bit words: bit i lives in
// words[i / 64] at position i % 64. The view owns nothing and never
// allocates, so it can describe memory that exists before any allocator
// does (the page frame bitmap, per-slab object state).
//
// Every index is bounds-checked with VERIFY: a bad index is a bug in the
// caller, not an input error. Bits past size() in the last word are never
// read or written.

#include <kernel/lib/kstd.h>

namespace tessera {

class Bitmap {
public:
    static constexpr size_t bits_per_word = 64;
    static constexpr size_t npos = static_cast<size_t>(-1);

    // Words needed for `bit_count` bits; never overflows.
    static constexpr size_t words_needed(size_t bit_count)
    {
        return bit_count / bits_per_word + (bit_count % bits_per_word != 0 ? 1 : 0);
    }

    constexpr Bitmap() = default;
    // `words` must hold words_needed(bit_count) words (may be null if
    // bit_count is 0). The contents are used as they are; call
    // clear_range() or set_range() to initialize.
    Bitmap(uint64_t* words, size_t bit_count);

    size_t size() const { return m_size; }
    uint64_t* words() const { return m_words; }

    bool get(size_t index) const;
    void set(size_t index);
    void clear(size_t index);

    // [start, start + count) must lie within the bitmap.
    void set_range(size_t start, size_t count);
    void clear_range(size_t start, size_t count);
    bool is_range_set(size_t start, size_t count) const;
    bool is_range_clear(size_t start, size_t count) const;

    // The first clear (or set) bit at or after `from` (from <= size()), or npos.
    size_t find_first_clear(size_t from = 0) const;
    size_t find_first_set(size_t from = 0) const;

    // The lowest index i >= from such that bits [i, i + count) are all clear
    // and (i + alignment_offset) is a multiple of alignment_in_bits, or npos.
    // The offset lets a caller align to something other than bit 0, e.g. a
    // physical address when bit 0 is not at an aligned frame.
    // count must be non-zero and alignment_in_bits a power of two.
    size_t find_clear_run(
        size_t count, size_t alignment_in_bits = 1, size_t from = 0, size_t alignment_offset = 0) const;

    size_t count_set() const;
    size_t count_set_in_range(size_t start, size_t count) const;

private:
    // The first bit in [from, end) equal to `value`, or npos.
    size_t find_first(bool value, size_t from, size_t end) const;
    void fill(size_t start, size_t count, bool value);
    void verify_range(size_t start, size_t count) const;

    uint64_t* m_words { nullptr };
    size_t m_size { 0 };
};

} // namespace tessera
