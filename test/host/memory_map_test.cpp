#include <kernel/memory/lib/memory_map.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

using namespace tessera;

namespace {

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = 1024 * KiB;
constexpr uint64_t GiB = 1024 * MiB;
constexpr uint64_t top = ~0ull;

MemoryRegion usable(uint64_t base, uint64_t length) { return { base, length, MemoryType::Usable }; }
MemoryRegion reserved(uint64_t base, uint64_t length) { return { base, length, MemoryType::Reserved }; }

struct Result {
    Errno error { Errno::INVAL };
    bool ok { false };
    std::vector<PhysicalRange> ranges;
};

Result sanitize(const std::vector<MemoryRegion>& regions, const std::vector<PhysicalRange>& reserved_ranges = {},
    size_t capacity = 64)
{
    std::vector<PhysicalRange> out(capacity);
    auto result = sanitize_memory_map(
        regions.data(), regions.size(), reserved_ranges.data(), reserved_ranges.size(), out.data(), out.size());
    Result r;
    if (result.is_error()) {
        r.error = result.error().code();
        return r;
    }
    r.ok = true;
    out.resize(result.value());
    r.ranges = out;
    return r;
}

// The output contract, checked on every successful result.
void expect_well_formed(const std::vector<PhysicalRange>& ranges)
{
    for (size_t i = 0; i < ranges.size(); ++i) {
        EXPECT_NE(ranges[i].length, 0u);
        EXPECT_EQ(ranges[i].base % page_size, 0u);
        EXPECT_EQ(ranges[i].length % page_size, 0u);
        EXPECT_GE(ranges[i].base, page_size);
        uint64_t end;
        EXPECT_FALSE(__builtin_add_overflow(ranges[i].base, ranges[i].length, &end));
        // Sorted, disjoint and not adjacent (else they would be one range).
        if (i > 0) {
            EXPECT_LT(ranges[i - 1].end(), ranges[i].base);
        }
    }
}

std::vector<PhysicalRange> expect_ok(
    const std::vector<MemoryRegion>& regions, const std::vector<PhysicalRange>& reserved_ranges = {})
{
    auto r = sanitize(regions, reserved_ranges);
    EXPECT_TRUE(r.ok) << "error " << static_cast<int>(r.error);
    expect_well_formed(r.ranges);
    return r.ranges;
}

std::string describe(const std::vector<PhysicalRange>& ranges)
{
    std::string text;
    char buffer[64];
    for (auto& range : ranges) {
        snprintf(buffer, sizeof(buffer), "[%#llx, %#llx) ", static_cast<unsigned long long>(range.base),
            static_cast<unsigned long long>(range.end()));
        text += buffer;
    }
    return text;
}

::testing::AssertionResult ranges_equal(
    const std::vector<PhysicalRange>& actual, const std::vector<PhysicalRange>& expected)
{
    bool same = actual.size() == expected.size();
    for (size_t i = 0; same && i < actual.size(); ++i)
        same = actual[i].base == expected[i].base && actual[i].length == expected[i].length;
    if (same)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "got " << describe(actual) << "\nwant " << describe(expected);
}

#define EXPECT_RANGES(actual, ...)                                                                                     \
    do {                                                                                                               \
        std::vector<PhysicalRange> expected_ranges { __VA_ARGS__ };                                                    \
        EXPECT_TRUE(ranges_equal(actual, expected_ranges));                                                            \
    } while (0)

PhysicalRange span(uint64_t base, uint64_t end) { return { base, end - base }; }

} // namespace

TEST(MemoryMap, EmptyMapIsInvalid)
{
    auto r = sanitize({});
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, Errno::INVAL);
    PhysicalRange out[1];
    auto result = sanitize_memory_map(nullptr, 0, nullptr, 0, out, 1);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), Errno::INVAL);
}

TEST(MemoryMap, NullArraysWithCountsAreInvalid)
{
    MemoryRegion regions[] = { usable(MiB, MiB) };
    PhysicalRange out[4];
    EXPECT_EQ(sanitize_memory_map(nullptr, 1, nullptr, 0, out, 4).error().code(), Errno::INVAL);
    EXPECT_EQ(sanitize_memory_map(regions, 1, nullptr, 1, out, 4).error().code(), Errno::INVAL);
    EXPECT_EQ(sanitize_memory_map(regions, 1, nullptr, 0, nullptr, 4).error().code(), Errno::INVAL);
    EXPECT_EQ(sanitize_memory_map(regions, 1, nullptr, 0, out, 4).value(), 1u);
}

TEST(MemoryMap, OnlyNonUsableOrEmptyPiecesIsInvalid)
{
    EXPECT_EQ(sanitize({ reserved(MiB, MiB) }).error, Errno::INVAL);
    EXPECT_EQ(sanitize({ usable(MiB, 0) }).error, Errno::INVAL);
    EXPECT_EQ(sanitize({ usable(MiB + 1, page_size) }).error, Errno::INVAL); // no whole page
    EXPECT_EQ(sanitize({ usable(0, page_size) }).error, Errno::INVAL); // only the first page
    EXPECT_EQ(sanitize({ usable(MiB, MiB) }, { { 0, 2 * MiB } }).error, Errno::INVAL);
}

TEST(MemoryMap, FirstPageIsNeverUsable)
{
    EXPECT_RANGES(expect_ok({ usable(0, 640 * KiB) }), span(page_size, 640 * KiB));
    EXPECT_RANGES(expect_ok({ usable(0x800, 3 * page_size) }), span(page_size, 3 * page_size));
}

TEST(MemoryMap, UnalignedRegionsShrinkToWholePages)
{
    EXPECT_RANGES(expect_ok({ usable(0x1234, 0x5678 - 0x1234) }), span(0x2000, 0x5000));
    EXPECT_RANGES(expect_ok({ usable(MiB + 1, 3 * page_size) }), span(MiB + page_size, MiB + 3 * page_size));
    // A piece with no whole page disappears while its neighbour stays.
    EXPECT_RANGES(
        expect_ok({ usable(MiB, 3 * page_size), usable(2 * MiB + 1, page_size) }), span(MiB, MiB + 3 * page_size));
}

TEST(MemoryMap, MergesOverlappingAndAdjacentUsable)
{
    EXPECT_RANGES(expect_ok({ usable(MiB, 2 * MiB), usable(2 * MiB, 3 * MiB) }), span(MiB, 5 * MiB));
    EXPECT_RANGES(expect_ok({ usable(MiB, MiB), usable(2 * MiB, MiB) }), span(MiB, 3 * MiB));
    // Adjacent at an unaligned boundary: merged first, so no page is lost.
    EXPECT_RANGES(expect_ok({ usable(MiB, 0x800), usable(MiB + 0x800, 0x1800) }), span(MiB, MiB + 2 * page_size));
    // Contained.
    EXPECT_RANGES(expect_ok({ usable(MiB, 8 * MiB), usable(2 * MiB, MiB) }), span(MiB, 9 * MiB));
}

TEST(MemoryMap, UnsortedAndDuplicateEntries)
{
    std::vector<MemoryRegion> sorted { usable(MiB, MiB), reserved(2 * MiB, MiB), usable(3 * MiB, MiB),
        usable(8 * MiB, MiB) };
    auto expected = expect_ok(sorted);
    EXPECT_RANGES(expected, span(MiB, 2 * MiB), span(3 * MiB, 4 * MiB), span(8 * MiB, 9 * MiB));
    std::vector<MemoryRegion> shuffled { sorted[3], sorted[1], sorted[0], sorted[2], sorted[3], sorted[0] };
    EXPECT_TRUE(ranges_equal(expect_ok(shuffled), expected));
    std::vector<MemoryRegion> reversed(sorted.rbegin(), sorted.rend());
    EXPECT_TRUE(ranges_equal(expect_ok(reversed), expected));
}

TEST(MemoryMap, ZeroLengthEntriesAreIgnored)
{
    EXPECT_RANGES(
        expect_ok({ usable(MiB, MiB), reserved(MiB + page_size, 0), usable(5 * MiB, 0) }), span(MiB, 2 * MiB));
    EXPECT_RANGES(expect_ok({ usable(MiB, MiB) }, { { MiB + page_size, 0 } }), span(MiB, 2 * MiB));
}

TEST(MemoryMap, NonUsableOverlapWins)
{
    // Firmware maps do this: a reserved hole punched into a usable entry,
    // listed before or after it, with unaligned edges.
    auto expected = std::vector<PhysicalRange> { span(MiB, 3 * MiB), span(4 * MiB, 8 * MiB) };
    EXPECT_TRUE(ranges_equal(expect_ok({ usable(MiB, 7 * MiB), reserved(3 * MiB + 0x800, MiB - 0x800) }), expected));
    EXPECT_TRUE(ranges_equal(expect_ok({ reserved(3 * MiB + 0x800, MiB - 0x800), usable(MiB, 7 * MiB) }), expected));
    // A partially overlapping non-usable entry at either edge.
    EXPECT_RANGES(expect_ok({ usable(MiB, 4 * MiB), reserved(0, MiB + 0x10) }), span(MiB + page_size, 5 * MiB));
    EXPECT_RANGES(expect_ok({ usable(MiB, 4 * MiB), reserved(5 * MiB - 1, MiB) }), span(MiB, 5 * MiB - page_size));
    // Every non-usable type blocks, and so does a type value we do not know.
    for (auto type : { MemoryType::Reserved, MemoryType::AcpiReclaimable, MemoryType::AcpiNvs, MemoryType::Bad,
             static_cast<MemoryType>(77) }) {
        EXPECT_RANGES(expect_ok({ usable(MiB, 3 * MiB), { 2 * MiB, page_size, type } }), span(MiB, 2 * MiB),
            span(2 * MiB + page_size, 4 * MiB));
    }
    // An unknown type on its own is not usable.
    EXPECT_EQ(sanitize({ { MiB, MiB, static_cast<MemoryType>(77) } }).error, Errno::INVAL);
    // The same range reported both usable and reserved is not usable.
    EXPECT_EQ(sanitize({ usable(MiB, MiB), reserved(MiB, MiB) }).error, Errno::INVAL);
}

TEST(MemoryMap, SubtractsReservedRanges)
{
    std::vector<PhysicalRange> boot { { MiB, 0x2345 }, { 3 * MiB, MiB }, { 64 * MiB, MiB }, { 7 * MiB, 0 } };
    EXPECT_RANGES(expect_ok({ usable(0, 16 * MiB) }, boot), span(page_size, MiB), span(MiB + 0x3000, 3 * MiB),
        span(4 * MiB, 16 * MiB));
    // Overlapping reserved ranges.
    EXPECT_RANGES(expect_ok({ usable(MiB, 4 * MiB) }, { { 2 * MiB, MiB }, { 2 * MiB + 0x800, MiB } }),
        span(MiB, 2 * MiB), span(3 * MiB + page_size, 5 * MiB));
}

TEST(MemoryMap, OverflowingEntriesAreClamped)
{
    // Usable to the very top: the final partial page (ending at 2^64 - 1) is lost.
    EXPECT_RANGES(expect_ok({ usable(top - 0xffff, 0x20000) }), span(top - 0xffff, top - 0xfff));
    EXPECT_RANGES(expect_ok({ usable(4 * GiB, top) }), span(4 * GiB, top - 0xfff));
    EXPECT_RANGES(expect_ok({ usable(MiB, top), reserved(2 * MiB, top) }), span(MiB, 2 * MiB));
    // A reserved range overflowing blocks everything above it.
    EXPECT_RANGES(expect_ok({ usable(MiB, 8 * MiB) }, { { 4 * MiB, top } }), span(MiB, 4 * MiB));
    // Nothing alignable at the top.
    EXPECT_EQ(sanitize({ usable(top - 10, 5) }).error, Errno::INVAL);
    EXPECT_EQ(sanitize({ usable(top, top) }).error, Errno::INVAL);
    EXPECT_RANGES(expect_ok({ usable(MiB, MiB), usable(top - 10, 100) }), span(MiB, 2 * MiB));
}

TEST(MemoryMap, NoSpaceWhenOutputTooSmall)
{
    std::vector<MemoryRegion> three { usable(MiB, MiB), usable(4 * MiB, MiB), usable(8 * MiB, MiB) };
    EXPECT_EQ(sanitize(three, {}, 2).error, Errno::NOSPC);
    EXPECT_EQ(sanitize(three, {}, 0).error, Errno::NOSPC);
    EXPECT_EQ(sanitize(three, {}, 3).ranges.size(), 3u);
    PhysicalRange out[1];
    EXPECT_EQ(sanitize_memory_map(three.data(), 3, nullptr, 0, nullptr, 0).error().code(), Errno::NOSPC);
    // Writes never go past the capacity.
    std::vector<PhysicalRange> guarded(3, { 0x5a5a, 0x5a5a });
    EXPECT_TRUE(sanitize_memory_map(three.data(), 3, nullptr, 0, guarded.data(), 2).is_error());
    EXPECT_EQ(guarded[2].base, 0x5a5au);
    (void)out;
}

// GRUB's multiboot2 map under QEMU 8 with SeaBIOS, -m 128M and -m 8G, with
// the kernel image and a module reserved.
TEST(MemoryMap, QemuSeaBiosMap)
{
    std::vector<MemoryRegion> small {
        usable(0x0, 0x9fc00),
        reserved(0x9fc00, 0x400),
        reserved(0xf0000, 0x10000),
        usable(0x100000, 0x7ee0000),
        reserved(0x7fe0000, 0x20000),
        reserved(0xfffc0000, 0x40000),
    };
    std::vector<PhysicalRange> boot { { 0x100000, 0x2f1a38 }, { 0x3f2000, 0x1234 } };
    auto ranges = expect_ok(small, boot);
    EXPECT_RANGES(ranges, span(0x1000, 0x9f000), span(0x3f4000, 0x7fe0000));
    EXPECT_EQ(total_bytes(ranges.data(), ranges.size()), (0x9f000 - 0x1000) + (0x7fe0000 - 0x3f4000));
    EXPECT_EQ(highest_usable_address(ranges.data(), ranges.size()), 0x7fe0000u);

    std::vector<MemoryRegion> large {
        usable(0x0, 0x9fc00),
        reserved(0x9fc00, 0x400),
        reserved(0xf0000, 0x10000),
        usable(0x100000, 0xbfee0000),
        reserved(0xbffe0000, 0x20000),
        reserved(0xfeffc000, 0x4000),
        reserved(0xfffc0000, 0x40000),
        usable(0x100000000, 0x140000000),
        reserved(0xfd00000000, 0x300000000),
    };
    ranges = expect_ok(large, boot);
    EXPECT_RANGES(ranges, span(0x1000, 0x9f000), span(0x3f4000, 0xbffe0000), span(0x100000000, 0x240000000));
    EXPECT_EQ(highest_usable_address(ranges.data(), ranges.size()), 0x240000000u);
}

// An OVMF (UEFI) map as GRUB reports it: boot-services, loader and
// conventional memory all arrive as separate, adjacent "available" entries,
// split by runtime-services, ACPI and NVS areas, some entries out of order.
TEST(MemoryMap, OvmfFragmentedMap)
{
    std::vector<MemoryRegion> map {
        usable(0x0, 0xa0000),
        usable(0x100000, 0x700000),
        { 0x800000, 0x8000, MemoryType::AcpiNvs },
        usable(0x808000, 0x3000),
        { 0x80b000, 0x1000, MemoryType::AcpiNvs },
        usable(0x80c000, 0x5000),
        { 0x811000, 0xef000, MemoryType::AcpiNvs },
        usable(0x900000, 0x100000),
        usable(0xa00000, 0x3e00000),
        usable(0x4800000, 0x37000000),
        usable(0x3b800000, 0x1d2000),
        reserved(0x3b9d2000, 0x20000),
        usable(0x3b9f2000, 0xf00000),
        usable(0x3c8f2000, 0x24a000),
        reserved(0x3cb3c000, 0x1e0000),
        usable(0x3cd1c000, 0x76000),
        { 0x3cd92000, 0x2000, MemoryType::AcpiReclaimable },
        { 0x3cd94000, 0xb000, MemoryType::AcpiReclaimable },
        { 0x3cd9f000, 0x80000, MemoryType::AcpiNvs },
        reserved(0x3ce1f000, 0x20000),
        usable(0x3ce3f000, 0x1c1000),
        usable(0x4600000, 0x200000), // reported late and out of order
        { 0x3d000000, 0x1000, MemoryType::Bad },
        usable(0x3d001000, 0x2fff000),
        reserved(0xb0000000, 0x10000000),
        reserved(0xffc00000, 0x400000),
    };
    std::vector<PhysicalRange> boot { { 0x200000, 0x400000 } };
    auto ranges = expect_ok(map, boot);
    EXPECT_RANGES(ranges, span(0x1000, 0xa0000), span(0x100000, 0x200000), span(0x600000, 0x800000),
        span(0x808000, 0x80b000), span(0x80c000, 0x811000), span(0x900000, 0x3b9d2000), span(0x3b9f2000, 0x3cb3c000),
        span(0x3cd1c000, 0x3cd92000), span(0x3ce3f000, 0x3d000000), span(0x3d001000, 0x40000000));
    EXPECT_EQ(highest_usable_address(ranges.data(), ranges.size()), 0x40000000u);
    // A second pass over its own output is a fixed point.
    std::vector<MemoryRegion> again;
    for (auto& range : ranges)
        again.push_back(usable(range.base, range.length));
    EXPECT_TRUE(ranges_equal(expect_ok(again), ranges));
}

// Random small maps against a byte-by-byte model of the rules.
TEST(MemoryMap, MatchesByteModel)
{
    constexpr uint64_t limit = 24 * page_size;
    std::mt19937_64 random(99);
    auto random_address = [&] {
        // Mostly page-aligned, sometimes not, so that edges get exercised.
        uint64_t address = (random() % 25) * page_size;
        if (random() % 3 == 0)
            address += random() % page_size;
        return address < limit ? address : limit;
    };
    for (int round = 0; round < 300; ++round) {
        std::vector<MemoryRegion> regions;
        std::vector<PhysicalRange> boot;
        size_t region_count = random() % 10;
        for (size_t i = 0; i < region_count; ++i) {
            uint64_t a = random_address(), b = random_address();
            if (a > b)
                std::swap(a, b);
            auto type = random() % 3 == 0 ? static_cast<MemoryType>(1 + random() % 5) : MemoryType::Usable;
            regions.push_back({ a, b - a, type });
        }
        for (size_t i = random() % 4; i > 0; --i) {
            uint64_t a = random_address(), b = random_address();
            if (a > b)
                std::swap(a, b);
            boot.push_back({ a, b - a });
        }

        std::vector<uint8_t> in_usable(limit), blocked(limit);
        for (auto& region : regions) {
            auto& bytes = region.type == MemoryType::Usable ? in_usable : blocked;
            std::fill(bytes.begin() + region.base, bytes.begin() + region.base + region.length, 1);
        }
        for (auto& range : boot)
            std::fill(blocked.begin() + range.base, blocked.begin() + range.end(), 1);
        std::vector<PhysicalRange> expected;
        for (uint64_t page = 1; page < limit / page_size; ++page) {
            bool whole = true;
            for (uint64_t x = page * page_size; x < (page + 1) * page_size; ++x)
                whole = whole && in_usable[x] && !blocked[x];
            if (!whole)
                continue;
            // Pages from adjacent usable bytes merge; a gap of even one byte splits.
            bool joins = !expected.empty() && expected.back().end() == page * page_size
                && in_usable[page * page_size - 1] && !blocked[page * page_size - 1];
            if (joins)
                expected.back().length += page_size;
            else
                expected.push_back({ page * page_size, page_size });
        }

        auto r = sanitize(regions, boot);
        if (expected.empty()) {
            EXPECT_FALSE(r.ok);
            EXPECT_EQ(r.error, Errno::INVAL);
            continue;
        }
        ASSERT_TRUE(r.ok) << "round " << round;
        expect_well_formed(r.ranges);
        ASSERT_TRUE(ranges_equal(r.ranges, expected)) << "round " << round;
    }
}

TEST(MemoryMap, TotalBytesAndHighestAddress)
{
    EXPECT_EQ(total_bytes(nullptr, 0), 0u);
    EXPECT_EQ(highest_usable_address(nullptr, 0), 0u);
    PhysicalRange ranges[] = { { 0x1000, 0x2000 }, { 0x10000, 0x1000 } };
    EXPECT_EQ(total_bytes(ranges, 2), 0x3000u);
    EXPECT_EQ(highest_usable_address(ranges, 2), 0x11000u);
    // Unsorted input still gives the maximum end.
    PhysicalRange unsorted[] = { { 0x10000, 0x1000 }, { 0x1000, 0x2000 } };
    EXPECT_EQ(highest_usable_address(unsorted, 2), 0x11000u);
    // Saturation instead of wrap-around.
    PhysicalRange huge[] = { { 0, top }, { 0, top } };
    EXPECT_EQ(total_bytes(huge, 2), top);
    PhysicalRange past_end[] = { { top - 1, 10 } };
    EXPECT_EQ(highest_usable_address(past_end, 1), top);
}

TEST(MemoryMapDeathTest, NullRangesWithCountVerify)
{
    EXPECT_DEATH((void)total_bytes(nullptr, 1), "VERIFY");
    EXPECT_DEATH((void)highest_usable_address(nullptr, 1), "VERIFY");
}
