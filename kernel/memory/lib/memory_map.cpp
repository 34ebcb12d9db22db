#include <kernel/lib/checked.h>
#include <kernel/memory/lib/memory_map.h>

namespace tessera {

namespace {

constexpr uint64_t address_limit = kstd::numeric_limits<uint64_t>::max();

// base + length, clamped to 2^64 - 1 (see memory_map.h).
constexpr uint64_t clamped_end(uint64_t base, uint64_t length)
{
    uint64_t end;
    if (__builtin_add_overflow(base, length, &end))
        return address_limit;
    return end;
}

constexpr bool covers(uint64_t base, uint64_t length, uint64_t address)
{
    return base <= address && address < clamped_end(base, length);
}

// Answers questions about the union of all input ranges without sorting or
// copying them: the input is const and there is no heap this early.
class MapWalker {
public:
    MapWalker(const MemoryRegion* regions, size_t count, const PhysicalRange* reserved, size_t reserved_count)
        : m_regions(regions)
        , m_count(count)
        , m_reserved(reserved)
        , m_reserved_count(reserved_count)
    {
    }

    // The smallest range boundary strictly above `address`, if any.
    bool next_boundary(uint64_t address, uint64_t& next) const
    {
        bool found = false;
        auto consider = [&](uint64_t boundary) {
            if (boundary > address && (!found || boundary < next)) {
                next = boundary;
                found = true;
            }
        };
        // The first page is always excluded, so its end is a boundary.
        consider(page_size);
        for (size_t i = 0; i < m_count; ++i) {
            consider(m_regions[i].base);
            consider(clamped_end(m_regions[i].base, m_regions[i].length));
        }
        for (size_t i = 0; i < m_reserved_count; ++i) {
            consider(m_reserved[i].base);
            consider(clamped_end(m_reserved[i].base, m_reserved[i].length));
        }
        return found;
    }

    // Whether the byte at `address` is usable. No boundary lies between two
    // consecutive boundaries, so this answer holds for the whole segment.
    bool is_usable(uint64_t address) const
    {
        if (address < page_size)
            return false;
        bool usable = false;
        for (size_t i = 0; i < m_count; ++i) {
            const auto& region = m_regions[i];
            if (!covers(region.base, region.length, address))
                continue;
            // Any non-usable claim wins, including a type we do not know.
            if (region.type != MemoryType::Usable)
                return false;
            usable = true;
        }
        if (!usable)
            return false;
        for (size_t i = 0; i < m_reserved_count; ++i) {
            if (covers(m_reserved[i].base, m_reserved[i].length, address))
                return false;
        }
        return true;
    }

private:
    const MemoryRegion* m_regions;
    size_t m_count;
    const PhysicalRange* m_reserved;
    size_t m_reserved_count;
};

class RangeWriter {
public:
    RangeWriter(PhysicalRange* out, size_t capacity)
        : m_out(out)
        , m_capacity(capacity)
    {
    }

    // Adds the whole pages of [start, end). Maximal usable runs are separated
    // by at least one unusable byte, so trimmed pieces never touch.
    ErrorOr<void> add(uint64_t start, uint64_t end)
    {
        auto aligned_start = checked_align_up(start, page_size);
        if (aligned_start.is_error())
            return {};
        uint64_t base = aligned_start.value();
        uint64_t limit = align_down(end, page_size);
        if (base >= limit)
            return {};
        if (m_written == m_capacity)
            return Error(Errno::NOSPC, "memory map has more usable ranges than fit");
        m_out[m_written++] = { base, limit - base };
        return {};
    }

    size_t written() const { return m_written; }

private:
    PhysicalRange* m_out;
    size_t m_capacity;
    size_t m_written { 0 };
};

} // namespace

ErrorOr<size_t> sanitize_memory_map(const MemoryRegion* regions, size_t count, const PhysicalRange* reserved,
    size_t reserved_count, PhysicalRange* out, size_t out_capacity)
{
    if ((regions == nullptr && count != 0) || (reserved == nullptr && reserved_count != 0)
        || (out == nullptr && out_capacity != 0))
        return Error(Errno::INVAL, "null memory map array");

    MapWalker walker(regions, count, reserved, reserved_count);
    RangeWriter writer(out, out_capacity);

    // Sweep the boundaries in address order. Between two consecutive
    // boundaries usability is constant, so one probe per segment suffices.
    uint64_t segment_start = 0;
    bool in_run = false;
    uint64_t run_start = 0;
    for (;;) {
        uint64_t segment_end;
        bool has_end = walker.next_boundary(segment_start, segment_end);
        // Past the last boundary no range covers anything.
        bool usable = has_end && walker.is_usable(segment_start);
        if (usable && !in_run) {
            run_start = segment_start;
            in_run = true;
        } else if (!usable && in_run) {
            TRY(writer.add(run_start, segment_start));
            in_run = false;
        }
        if (!has_end)
            break;
        segment_start = segment_end;
    }

    if (writer.written() == 0)
        return Error(Errno::INVAL, "memory map has no usable page");
    return writer.written();
}

uint64_t highest_usable_address(const PhysicalRange* ranges, size_t count)
{
    VERIFY(ranges != nullptr || count == 0);
    uint64_t highest = 0;
    for (size_t i = 0; i < count; ++i) {
        uint64_t end = clamped_end(ranges[i].base, ranges[i].length);
        if (end > highest)
            highest = end;
    }
    return highest;
}

uint64_t total_bytes(const PhysicalRange* ranges, size_t count)
{
    VERIFY(ranges != nullptr || count == 0);
    uint64_t total = 0;
    for (size_t i = 0; i < count; ++i) {
        if (__builtin_add_overflow(total, ranges[i].length, &total))
            return address_limit;
    }
    return total;
}

} // namespace tessera
