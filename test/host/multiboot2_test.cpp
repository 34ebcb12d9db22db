#include <kernel/boot/lib/multiboot2.h>

#include <byte_builder.h>
#include <gtest/gtest.h>

#include <cstring>
#include <new>
#include <string>
#include <vector>

using namespace tessera;
using namespace tessera::test;

namespace {

// An 8-aligned heap copy of exactly `size` bytes, so that ASan flags any read
// past what the parser was told it may read.
class AlignedBuffer {
public:
    explicit AlignedBuffer(Bytes const& bytes)
        : m_size(bytes.size())
        , m_data(static_cast<uint8_t*>(::operator new (bytes.size() ? bytes.size() : 1, std::align_val_t { 8 })))
    {
        if (!bytes.empty())
            std::memcpy(m_data, bytes.data(), bytes.size());
    }
    ~AlignedBuffer() { ::operator delete (m_data, std::align_val_t { 8 }); }
    AlignedBuffer(AlignedBuffer const&) = delete;
    AlignedBuffer& operator=(AlignedBuffer const&) = delete;

    uint8_t const* data() const { return m_data; }
    size_t size() const { return m_size; }

private:
    size_t m_size;
    uint8_t* m_data;
};

Bytes text(std::string const& s, bool nul = true)
{
    Bytes bytes(s.begin(), s.end());
    if (nul)
        bytes.push_back(0);
    return bytes;
}

struct MemoryEntry {
    uint64_t base;
    uint64_t length;
    uint32_t type;
};

// Builds boot information tag by tag; finish() adds the end tag and fixes up
// total_size.
class InfoBuilder {
public:
    InfoBuilder() { m_bytes.resize(8, 0); }

    // `size_override` (when not -1) is written as the tag's size instead of
    // the true one.
    InfoBuilder& tag(uint32_t type, Bytes const& payload, int64_t size_override = -1)
    {
        put_u32(m_bytes, type);
        put_u32(m_bytes,
            size_override >= 0 ? static_cast<uint32_t>(size_override) : static_cast<uint32_t>(8 + payload.size()));
        m_bytes.insert(m_bytes.end(), payload.begin(), payload.end());
        while (m_bytes.size() % 8 != 0)
            m_bytes.push_back(0);
        return *this;
    }
    InfoBuilder& command_line(std::string const& s) { return tag(1, text(s)); }
    InfoBuilder& bootloader_name(std::string const& s) { return tag(2, text(s)); }
    InfoBuilder& module(uint32_t start, uint32_t end, std::string const& name)
    {
        Bytes payload;
        put_u32(payload, start);
        put_u32(payload, end);
        auto name_bytes = text(name);
        payload.insert(payload.end(), name_bytes.begin(), name_bytes.end());
        return tag(3, payload);
    }
    InfoBuilder& memory_map(std::vector<MemoryEntry> const& entries, uint32_t entry_size = 24)
    {
        Bytes payload;
        put_u32(payload, entry_size);
        put_u32(payload, 0);
        for (auto const& entry : entries) {
            size_t start = payload.size();
            put_u64(payload, entry.base);
            put_u64(payload, entry.length);
            put_u32(payload, entry.type);
            payload.resize(start + entry_size, 0);
        }
        return tag(6, payload);
    }
    InfoBuilder& rsdp(uint32_t type, size_t length, uint8_t fill) { return tag(type, Bytes(length, fill)); }
    Bytes finish()
    {
        auto bytes = m_bytes;
        put_u32(bytes, 0);
        put_u32(bytes, 8);
        set_u32(bytes, 0, static_cast<uint32_t>(bytes.size()));
        return bytes;
    }
    Bytes without_end()
    {
        auto bytes = m_bytes;
        set_u32(bytes, 0, static_cast<uint32_t>(bytes.size()));
        return bytes;
    }

private:
    Bytes m_bytes;
};

Errno parse_error(Bytes const& bytes)
{
    AlignedBuffer buffer(bytes);
    auto result = parse_multiboot2(buffer.data(), buffer.size());
    EXPECT_TRUE(result.is_error());
    return result.is_error() ? result.error().code() : Errno {};
}

} // namespace

TEST(Multiboot2, Magic)
{
    EXPECT_EQ(multiboot2_bootloader_magic, 0x36d76289u);
    EXPECT_FALSE(check_multiboot2_magic(0x36d76289).is_error());
    EXPECT_TRUE(check_multiboot2_magic(0x2badb002).is_error()); // Multiboot 1.
    EXPECT_TRUE(check_multiboot2_magic(0).is_error());
}

TEST(Multiboot2, MinimalInfo)
{
    AlignedBuffer buffer(InfoBuilder().finish());
    ASSERT_EQ(buffer.size(), 16u);
    auto info = MUST(parse_multiboot2(buffer.data(), buffer.size()));
    EXPECT_TRUE(info.command_line.is_empty());
    EXPECT_TRUE(info.bootloader_name.is_empty());
    EXPECT_EQ(info.memory_region_count, 0u);
    EXPECT_FALSE(info.has_memory_map);
    EXPECT_EQ(info.module_count, 0u);
    EXPECT_EQ(info.rsdp, nullptr);
}

TEST(Multiboot2, FullInfo)
{
    auto bytes = InfoBuilder()
                     .command_line("/boot/tessera.elf tessera.node=3")
                     .tag(21, Bytes(4, 0xee)) // Load base address: skipped.
                     .bootloader_name("GRUB 2.06")
                     .module(0x200000, 0x201000, "/boot/tessera.sym")
                     .module(0x300000, 0x300000, "")
                     .memory_map({ { 0, 0x9fc00, 1 }, { 0x9fc00, 0x400, 2 }, { 0x100000, 0x7ee0000, 1 },
                         { 0x7fe0000, 0x20000, 3 }, { 0xfffc0000, 0x40000, 4 }, { 0x1000000000, 0x1000, 5 },
                         { 0x2000000000, 0x1000, 12 } })
                     .rsdp(14, 20, 0x11)
                     .rsdp(15, 36, 0x22)
                     .finish();
    AlignedBuffer buffer(bytes);
    auto info = MUST(parse_multiboot2(buffer.data(), buffer.size()));
    EXPECT_TRUE(info.command_line == "/boot/tessera.elf tessera.node=3");
    EXPECT_TRUE(info.bootloader_name == "GRUB 2.06");

    ASSERT_EQ(info.module_count, 2u);
    EXPECT_EQ(info.modules[0].start, 0x200000u);
    EXPECT_EQ(info.modules[0].end, 0x201000u);
    EXPECT_TRUE(info.modules[0].name == "/boot/tessera.sym");
    EXPECT_TRUE(info.modules[1].name.is_empty());

    ASSERT_TRUE(info.has_memory_map);
    ASSERT_EQ(info.memory_region_count, 7u);
    EXPECT_EQ(info.memory_regions[2].base, 0x100000u);
    EXPECT_EQ(info.memory_regions[2].length, 0x7ee0000u);
    MemoryType expected[] = { MemoryType::Usable, MemoryType::Reserved, MemoryType::Usable, MemoryType::AcpiReclaimable,
        MemoryType::AcpiNvs, MemoryType::Bad, MemoryType::Reserved };
    for (size_t i = 0; i < 7; ++i)
        EXPECT_EQ(info.memory_regions[i].type, expected[i]) << i;

    // The new RSDP wins over the old one.
    ASSERT_NE(info.rsdp, nullptr);
    EXPECT_EQ(info.rsdp_length, 36u);
    EXPECT_TRUE(info.rsdp_is_xsdp);
    EXPECT_EQ(info.rsdp[0], 0x22);
    EXPECT_GE(info.rsdp, buffer.data());
    EXPECT_LE(info.rsdp + info.rsdp_length, buffer.data() + buffer.size());
}

TEST(Multiboot2, RsdpChoice)
{
    {
        AlignedBuffer buffer(InfoBuilder().rsdp(14, 20, 0x11).finish());
        auto info = MUST(parse_multiboot2(buffer.data(), buffer.size()));
        ASSERT_NE(info.rsdp, nullptr);
        EXPECT_EQ(info.rsdp_length, 20u);
        EXPECT_FALSE(info.rsdp_is_xsdp);
        EXPECT_EQ(info.rsdp[19], 0x11);
    }
    {
        // New before old, in either order the new one is chosen.
        AlignedBuffer buffer(InfoBuilder().rsdp(15, 36, 0x22).rsdp(14, 20, 0x11).finish());
        auto info = MUST(parse_multiboot2(buffer.data(), buffer.size()));
        EXPECT_TRUE(info.rsdp_is_xsdp);
        EXPECT_EQ(info.rsdp[0], 0x22);
    }
    EXPECT_EQ(parse_error(InfoBuilder().rsdp(14, 19, 0).finish()), Errno::INVAL);
    EXPECT_EQ(parse_error(InfoBuilder().rsdp(15, 35, 0).finish()), Errno::INVAL);
    EXPECT_EQ(parse_error(InfoBuilder().rsdp(15, 36, 0).rsdp(15, 36, 0).finish()), Errno::INVAL);
    EXPECT_EQ(parse_error(InfoBuilder().rsdp(14, 20, 0).rsdp(14, 20, 0).finish()), Errno::INVAL);
}

TEST(Multiboot2, TrailingBytesAfterEndTagAreIgnored)
{
    auto bytes = InfoBuilder().command_line("x").finish();
    bytes.resize(bytes.size() + 16, 0xaa);
    set_u32(bytes, 0, static_cast<uint32_t>(bytes.size()));
    AlignedBuffer buffer(bytes);
    EXPECT_TRUE(MUST(parse_multiboot2(buffer.data(), buffer.size())).command_line == "x");
}

TEST(Multiboot2, FixedPartErrors)
{
    EXPECT_TRUE(parse_multiboot2(nullptr, 100).is_error());

    auto good = InfoBuilder().finish();
    AlignedBuffer buffer(good);
    EXPECT_TRUE(parse_multiboot2(buffer.data(), 7).is_error());
    EXPECT_TRUE(parse_multiboot2(buffer.data(), 15).is_error()) << "total_size larger than available";
    EXPECT_FALSE(parse_multiboot2(buffer.data(), 16).is_error());

    for (uint32_t total : { 0u, 8u, 15u }) {
        auto bytes = good;
        set_u32(bytes, 0, total);
        EXPECT_EQ(parse_error(bytes), Errno::INVAL) << total;
    }
    auto huge = good;
    set_u32(huge, 0, 0xffffffff);
    EXPECT_EQ(parse_error(huge), Errno::INVAL);
}

TEST(Multiboot2, MisalignedInfo)
{
    auto good = InfoBuilder().finish();
    Bytes shifted(good.size() + 4);
    std::memcpy(shifted.data() + 4, good.data(), good.size());
    AlignedBuffer buffer(shifted);
    EXPECT_TRUE(parse_multiboot2(buffer.data() + 4, good.size()).is_error());
}

TEST(Multiboot2, TagFramingErrors)
{
    // Missing end tag: the tags just stop at total_size.
    EXPECT_EQ(parse_error(InfoBuilder().command_line("x").without_end()), Errno::INVAL);
    // Only a fixed part and a partial tag header.
    {
        Bytes bytes(20, 0);
        set_u32(bytes, 0, 20);
        EXPECT_EQ(parse_error(bytes), Errno::INVAL);
    }
    // A tag whose size is below its own header, including 0 (an endless loop
    // for a naive walker).
    for (uint32_t size : { 0u, 1u, 7u })
        EXPECT_EQ(parse_error(InfoBuilder().tag(1, text("x"), size).finish()), Errno::INVAL) << size;
    // A tag that claims more than total_size.
    EXPECT_EQ(parse_error(InfoBuilder().tag(21, { 1, 2, 3, 4 }, 100).finish()), Errno::INVAL);
    EXPECT_EQ(parse_error(InfoBuilder().tag(21, { 1, 2, 3, 4 }, 0xfffffff8).finish()), Errno::INVAL);
    // An end tag with the wrong size.
    EXPECT_EQ(parse_error(InfoBuilder().tag(0, Bytes(8, 0)).finish()), Errno::INVAL);
    // A last tag whose padding runs past total_size.
    {
        auto bytes = InfoBuilder().tag(21, { 1, 2, 3, 4 }).without_end();
        set_u32(bytes, 0, 8 + 12);
        EXPECT_EQ(parse_error(bytes), Errno::INVAL);
    }
    // total_size cutting through the end tag.
    {
        auto bytes = InfoBuilder().command_line("x").finish();
        ASSERT_EQ(bytes.size(), 32u);
        set_u32(bytes, 0, 28);
        EXPECT_EQ(parse_error(bytes), Errno::INVAL);
    }
}

TEST(Multiboot2, StringErrors)
{
    EXPECT_EQ(parse_error(InfoBuilder().tag(1, text("no nul", false)).finish()), Errno::INVAL);
    EXPECT_EQ(parse_error(InfoBuilder().tag(2, text("no nul", false)).finish()), Errno::INVAL);
    EXPECT_EQ(parse_error(InfoBuilder().tag(1, {}).finish()), Errno::INVAL);
    // The NUL lies in the padding after the tag, not inside it.
    EXPECT_EQ(parse_error(InfoBuilder().tag(1, text("abc", false)).finish()), Errno::INVAL);
    EXPECT_EQ(parse_error(InfoBuilder().command_line("a").command_line("b").finish()), Errno::INVAL);
    EXPECT_EQ(parse_error(InfoBuilder().bootloader_name("a").bootloader_name("b").finish()), Errno::INVAL);

    // Bytes after the first NUL are not part of the string.
    AlignedBuffer buffer(InfoBuilder().tag(1, { 'a', 'b', 0, 'c', 'd', 0 }).finish());
    EXPECT_TRUE(MUST(parse_multiboot2(buffer.data(), buffer.size())).command_line == "ab");
    AlignedBuffer empty(InfoBuilder().tag(1, { 0 }).finish());
    EXPECT_TRUE(MUST(parse_multiboot2(empty.data(), empty.size())).command_line.is_empty());
}

TEST(Multiboot2, ModuleErrors)
{
    EXPECT_EQ(parse_error(InfoBuilder().module(0x2000, 0x1000, "backwards").finish()), Errno::INVAL);
    EXPECT_EQ(parse_error(InfoBuilder().tag(3, { 0, 0, 0, 0, 0, 0, 0, 0 }).finish()), Errno::INVAL) << "no string";
    EXPECT_EQ(parse_error(InfoBuilder().tag(3, { 0, 0, 0, 0 }).finish()), Errno::INVAL) << "too small";
    Bytes unterminated = { 0, 0, 1, 0, 0, 0, 2, 0, 'a', 'b' };
    EXPECT_EQ(parse_error(InfoBuilder().tag(3, unterminated).finish()), Errno::INVAL);

    InfoBuilder full;
    for (size_t i = 0; i < boot_info_max_modules; ++i)
        full.module(0x1000 * i, 0x1000 * i + 0x10, "m" + std::to_string(i));
    {
        AlignedBuffer buffer(full.finish());
        auto info = MUST(parse_multiboot2(buffer.data(), buffer.size()));
        EXPECT_EQ(info.module_count, boot_info_max_modules);
        EXPECT_TRUE(info.modules[15].name == "m15");
    }
    full.module(0, 1, "one too many");
    EXPECT_EQ(parse_error(full.finish()), Errno::NOSPC);
}

TEST(Multiboot2, MemoryMapEntrySizes)
{
    // A larger, 8-aligned entry_size (a future entry version) is walked by
    // entry_size, not by 24.
    AlignedBuffer buffer(InfoBuilder().memory_map({ { 0x1000, 0x2000, 1 }, { 0x5000, 0x1000, 3 } }, 40).finish());
    auto info = MUST(parse_multiboot2(buffer.data(), buffer.size()));
    ASSERT_EQ(info.memory_region_count, 2u);
    EXPECT_EQ(info.memory_regions[1].base, 0x5000u);
    EXPECT_EQ(info.memory_regions[1].type, MemoryType::AcpiReclaimable);

    AlignedBuffer empty(InfoBuilder().memory_map({}).finish());
    auto empty_info = MUST(parse_multiboot2(empty.data(), empty.size()));
    EXPECT_TRUE(empty_info.has_memory_map);
    EXPECT_EQ(empty_info.memory_region_count, 0u);

    for (uint32_t entry_size : { 0u, 8u, 16u, 20u, 28u, 25u })
        EXPECT_EQ(parse_error(InfoBuilder().memory_map({ { 0, 0x1000, 1 } }, entry_size).finish()), Errno::INVAL)
            << entry_size;
    // Header cut short, and a partial trailing entry.
    EXPECT_EQ(parse_error(InfoBuilder().tag(6, { 24, 0, 0, 0 }).finish()), Errno::INVAL);
    {
        Bytes payload;
        put_u32(payload, 24);
        put_u32(payload, 0);
        payload.resize(payload.size() + 24 + 8, 0);
        EXPECT_EQ(parse_error(InfoBuilder().tag(6, payload).finish()), Errno::INVAL);
    }
    // An entry whose end wraps past 2^64.
    EXPECT_EQ(parse_error(InfoBuilder().memory_map({ { 0xfffffffffffff000, 0x2000, 1 } }).finish()), Errno::INVAL);
    // Ending exactly at 2^64 is refused too: PhysicalRange::end() could not
    // represent it, and no machine has such physical addresses.
    EXPECT_EQ(parse_error(InfoBuilder().memory_map({ { 0xfffffffffffff000, 0x1000, 1 } }).finish()), Errno::INVAL);
    {
        AlignedBuffer buffer(InfoBuilder().memory_map({ { 0xffffffffffffe000, 0x1000, 1 } }).finish());
        EXPECT_FALSE(parse_multiboot2(buffer.data(), buffer.size()).is_error());
    }
    EXPECT_EQ(parse_error(InfoBuilder().memory_map({}).memory_map({}).finish()), Errno::INVAL) << "two maps";
}

TEST(Multiboot2, MemoryMapCapacity)
{
    std::vector<MemoryEntry> entries;
    for (uint64_t i = 0; i < boot_info_max_memory_regions; ++i)
        entries.push_back({ i * 0x1000, 0x1000, 1 });
    {
        AlignedBuffer buffer(InfoBuilder().memory_map(entries).finish());
        EXPECT_EQ(
            MUST(parse_multiboot2(buffer.data(), buffer.size())).memory_region_count, boot_info_max_memory_regions);
    }
    entries.push_back({ 0x10000000, 0x1000, 1 });
    EXPECT_EQ(parse_error(InfoBuilder().memory_map(entries).finish()), Errno::NOSPC);
}

// Every truncation and every single-byte corruption of a valid structure must
// either parse or fail cleanly (ASan/UBSan watch for the rest).
TEST(Multiboot2, TruncationAndCorruptionNeverCrash)
{
    auto bytes = InfoBuilder()
                     .command_line("tessera.node=3")
                     .bootloader_name("GRUB")
                     .module(0x200000, 0x201000, "/boot/tessera.sym")
                     .memory_map({ { 0, 0x9fc00, 1 }, { 0x100000, 0x7ee0000, 1 } })
                     .rsdp(15, 36, 0x22)
                     .finish();
    for (size_t length = 0; length <= bytes.size(); ++length) {
        Bytes prefix(bytes.begin(), bytes.begin() + length);
        AlignedBuffer buffer(prefix);
        auto result = parse_multiboot2(buffer.data(), buffer.size());
        EXPECT_EQ(result.is_error(), length != bytes.size()) << length;
    }
    for (size_t offset = 0; offset < bytes.size(); ++offset) {
        for (uint8_t value : { 0x00, 0x01, 0x07, 0x80, 0xff }) {
            auto corrupt = bytes;
            corrupt[offset] = value;
            AlignedBuffer buffer(corrupt);
            (void)parse_multiboot2(buffer.data(), buffer.size()).is_error();
        }
    }
}
