#include <kernel/lib/assert.h>
#include <kernel/lib/bitmap.h>
#include <kernel/lib/checked.h>

namespace tessera {

namespace {

// The bits [bit, bit + count) of a word set; count is 1..64.
constexpr uint64_t word_mask(size_t bit, size_t count)
{
    uint64_t low = count == Bitmap::bits_per_word ? ~0ull : (1ull << count) - 1;
    return low << bit;
}

constexpr size_t smaller(size_t a, size_t b) { return a < b ? a : b; }

} // namespace

Bitmap::Bitmap(uint64_t* words, size_t bit_count)
    : m_words(words)
    , m_size(bit_count)
{
    VERIFY(words != nullptr || bit_count == 0);
}

bool Bitmap::get(size_t index) const
{
    VERIFY(index < m_size);
    return (m_words[index / bits_per_word] >> (index % bits_per_word)) & 1;
}

void Bitmap::set(size_t index)
{
    VERIFY(index < m_size);
    m_words[index / bits_per_word] |= 1ull << (index % bits_per_word);
}

void Bitmap::clear(size_t index)
{
    VERIFY(index < m_size);
    m_words[index / bits_per_word] &= ~(1ull << (index % bits_per_word));
}

void Bitmap::verify_range(size_t start, size_t count) const
{
    // Written so that start + count cannot overflow.
    VERIFY(start <= m_size && count <= m_size - start);
}

void Bitmap::fill(size_t start, size_t count, bool value)
{
    verify_range(start, count);
    while (count != 0) {
        size_t bit = start % bits_per_word;
        size_t chunk = smaller(bits_per_word - bit, count);
        uint64_t mask = word_mask(bit, chunk);
        if (value)
            m_words[start / bits_per_word] |= mask;
        else
            m_words[start / bits_per_word] &= ~mask;
        start += chunk;
        count -= chunk;
    }
}

void Bitmap::set_range(size_t start, size_t count) { fill(start, count, true); }
void Bitmap::clear_range(size_t start, size_t count) { fill(start, count, false); }

bool Bitmap::is_range_set(size_t start, size_t count) const
{
    verify_range(start, count);
    return find_first(false, start, start + count) == npos;
}

bool Bitmap::is_range_clear(size_t start, size_t count) const
{
    verify_range(start, count);
    return find_first(true, start, start + count) == npos;
}

size_t Bitmap::find_first(bool value, size_t from, size_t end) const
{
    VERIFY(from <= end && end <= m_size);
    size_t index = from;
    while (index < end) {
        size_t word_start = index - index % bits_per_word;
        uint64_t word = m_words[index / bits_per_word];
        if (!value)
            word = ~word;
        word &= ~0ull << (index % bits_per_word);
        if (word != 0) {
            size_t found = word_start + static_cast<size_t>(__builtin_ctzll(word));
            return found < end ? found : npos;
        }
        // Stepping to the next word would pass `end` (or overflow).
        if (end - word_start <= bits_per_word)
            return npos;
        index = word_start + bits_per_word;
    }
    return npos;
}

size_t Bitmap::find_first_clear(size_t from) const
{
    VERIFY(from <= m_size);
    return find_first(false, from, m_size);
}

size_t Bitmap::find_first_set(size_t from) const
{
    VERIFY(from <= m_size);
    return find_first(true, from, m_size);
}

size_t Bitmap::find_clear_run(size_t count, size_t alignment_in_bits, size_t from, size_t alignment_offset) const
{
    VERIFY(count != 0);
    VERIFY(is_power_of_two(alignment_in_bits));
    VERIFY(from <= m_size);
    size_t mask = alignment_in_bits - 1;
    size_t candidate = from;
    for (;;) {
        // Unsigned wrap-around is harmless here: only the low bits matter.
        size_t misalignment = (candidate + alignment_offset) & mask;
        if (misalignment != 0 && __builtin_add_overflow(candidate, alignment_in_bits - misalignment, &candidate))
            return npos;
        if (candidate > m_size || count > m_size - candidate)
            return npos;
        size_t blocker = find_first(true, candidate, candidate + count);
        if (blocker == npos)
            return candidate;
        // No run can contain the set bit: restart at the next clear bit.
        candidate = find_first(false, blocker + 1, m_size);
        if (candidate == npos)
            return npos;
    }
}

size_t Bitmap::count_set() const { return count_set_in_range(0, m_size); }

size_t Bitmap::count_set_in_range(size_t start, size_t count) const
{
    verify_range(start, count);
    size_t total = 0;
    while (count != 0) {
        size_t bit = start % bits_per_word;
        size_t chunk = smaller(bits_per_word - bit, count);
        total += static_cast<size_t>(__builtin_popcountll(m_words[start / bits_per_word] & word_mask(bit, chunk)));
        start += chunk;
        count -= chunk;
    }
    return total;
}

} // namespace tessera
