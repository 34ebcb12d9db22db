#include <kernel/debug/lib/symbol_table.h>

#include <byte_builder.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

using namespace tessera;
using namespace tessera::test;

namespace {

struct RawEntry {
    uint64_t address;
    uint32_t name_offset;
    uint32_t name_length;
};

Bytes make_raw(std::vector<RawEntry> const& entries, std::string const& strings)
{
    Bytes bytes { 'T', 'S', 'Y', 'M' };
    put_u32(bytes, 1);
    put_u32(bytes, static_cast<uint32_t>(entries.size()));
    put_u32(bytes, static_cast<uint32_t>(strings.size()));
    for (auto const& entry : entries) {
        put_u64(bytes, entry.address);
        put_u32(bytes, entry.name_offset);
        put_u32(bytes, entry.name_length);
    }
    bytes.insert(bytes.end(), strings.begin(), strings.end());
    return bytes;
}

// A well-formed table from (address, name) pairs in the given order.
Bytes make_table(std::vector<std::pair<uint64_t, std::string>> const& symbols)
{
    std::vector<RawEntry> entries;
    std::string strings;
    for (auto const& [address, name] : symbols) {
        entries.push_back({ address, static_cast<uint32_t>(strings.size()), static_cast<uint32_t>(name.size()) });
        strings += name;
    }
    return make_raw(entries, strings);
}

// Holds an exact-size heap copy (for ASan) that the table points into.
struct Loaded {
    std::unique_ptr<uint8_t[]> bytes;
    ErrorOr<SymbolTable> table;
};

Loaded load(Bytes const& bytes)
{
    auto copy = heap_copy(bytes);
    auto table = SymbolTable::from_bytes(copy.get(), bytes.size());
    return { std::move(copy), std::move(table) };
}

bool rejected(Bytes const& bytes) { return load(bytes).table.is_error(); }

std::string name_of(SymbolLookup const& lookup) { return std::string(lookup.name.data(), lookup.name.length()); }

std::string repository_root()
{
    // This file is test/host/symbol_table_test.cpp.
    std::string path = __FILE__;
    for (int i = 0; i < 3; ++i)
        path = path.substr(0, path.rfind('/'));
    return path;
}

} // namespace

TEST(SymbolTable, LookupFindsContainingSymbol)
{
    auto loaded = load(make_table({ { 0xffffffff80100000, "_start" }, { 0xffffffff80100040, "tessera::kmain()" },
        { 0xffffffff80100100, "tessera::panic(char const*, ...)" } }));
    auto& table = loaded.table.value();
    EXPECT_EQ(table.size(), 3u);

    auto at_start = table.lookup(0xffffffff80100000);
    ASSERT_TRUE(at_start);
    EXPECT_TRUE(at_start.has_value());
    EXPECT_EQ(name_of(at_start), "_start");
    EXPECT_EQ(at_start.offset, 0u);
    EXPECT_EQ(at_start.symbol_address, 0xffffffff80100000u);

    auto inside = table.lookup(0xffffffff8010007f);
    ASSERT_TRUE(inside);
    EXPECT_EQ(name_of(inside), "tessera::kmain()");
    EXPECT_EQ(inside.offset, 0x3fu);

    auto last = table.lookup(0xffffffff80100100 + 0x1234);
    ASSERT_TRUE(last);
    EXPECT_EQ(name_of(last), "tessera::panic(char const*, ...)");
    EXPECT_EQ(last.offset, 0x1234u);
}

TEST(SymbolTable, LookupLimits)
{
    auto loaded = load(make_table({ { 0x1000, "low" }, { 0x200000, "high" } }));
    auto& table = loaded.table.value();
    EXPECT_FALSE(table.lookup(0));
    EXPECT_FALSE(table.lookup(0xfff)) << "below the first symbol";
    EXPECT_TRUE(table.lookup(0x1000 + symbol_lookup_max_distance - 1));
    EXPECT_FALSE(table.lookup(0x1000 + symbol_lookup_max_distance)) << "1 MiB past the nearest symbol";
    EXPECT_FALSE(table.lookup(0x1fffff)) << "more than 1 MiB past \"low\"";
    EXPECT_EQ(name_of(table.lookup(0x200005)), "high");
    EXPECT_FALSE(table.lookup(0x200000 + symbol_lookup_max_distance));
    EXPECT_FALSE(table.lookup(~0ull));
}

TEST(SymbolTable, EqualAddressesGiveTheFirstListed)
{
    auto loaded = load(make_table(
        { { 0x1000, "a" }, { 0x2000, "first" }, { 0x2000, "second" }, { 0x2000, "third" }, { 0x3000, "c" } }));
    auto& table = loaded.table.value();
    EXPECT_EQ(name_of(table.lookup(0x2000)), "first");
    EXPECT_EQ(name_of(table.lookup(0x2fff)), "first");
    EXPECT_EQ(name_of(table.lookup(0x3000)), "c");
}

TEST(SymbolTable, EmptyTables)
{
    constexpr SymbolTable before_boot;
    EXPECT_EQ(before_boot.size(), 0u);
    EXPECT_FALSE(before_boot.lookup(0x1000));

    auto loaded = load(make_table({}));
    ASSERT_FALSE(loaded.table.is_error());
    EXPECT_EQ(loaded.table.value().size(), 0u);
    EXPECT_FALSE(loaded.table.value().lookup(0));
}

TEST(SymbolTable, ManySymbolsBinarySearch)
{
    std::vector<std::pair<uint64_t, std::string>> symbols;
    for (uint64_t i = 0; i < 1000; ++i)
        symbols.push_back({ 0x100000 + i * 0x40, "f" + std::to_string(i) });
    auto loaded = load(make_table(symbols));
    auto& table = loaded.table.value();
    for (uint64_t i = 0; i < 1000; ++i) {
        auto found = table.lookup(0x100000 + i * 0x40 + 0x3f);
        ASSERT_TRUE(found) << i;
        EXPECT_EQ(name_of(found), "f" + std::to_string(i));
        EXPECT_EQ(found.offset, 0x3fu);
    }
}

TEST(SymbolTable, HeaderErrors)
{
    auto good = make_table({ { 0x1000, "a" } });
    EXPECT_FALSE(rejected(good));
    EXPECT_TRUE(SymbolTable::from_bytes(nullptr, 16).is_error());
    EXPECT_TRUE(rejected({}));
    EXPECT_TRUE(rejected(Bytes(good.begin(), good.begin() + 15)));

    auto bad_magic = good;
    bad_magic[3] = 'm';
    EXPECT_TRUE(rejected(bad_magic));
    for (uint32_t version : { 0u, 2u, 0x01000000u }) {
        auto bad_version = good;
        set_u32(bad_version, 4, version);
        EXPECT_TRUE(rejected(bad_version)) << version;
    }
}

TEST(SymbolTable, SizeErrors)
{
    auto good = make_table({ { 0x1000, "abc" }, { 0x2000, "de" } });
    // Truncated anywhere, or with a trailing byte.
    for (size_t length = 0; length < good.size(); ++length)
        EXPECT_TRUE(rejected(Bytes(good.begin(), good.begin() + length))) << length;
    auto trailing = good;
    trailing.push_back(0);
    EXPECT_TRUE(rejected(trailing));
    // Counts that do not match the data, including ones that would overflow
    // a 32-bit size computation.
    for (uint32_t count : { 0u, 1u, 3u, 0x10000000u, 0xffffffffu }) {
        auto bad = good;
        set_u32(bad, 8, count);
        EXPECT_TRUE(rejected(bad)) << count;
    }
    for (uint32_t strings_size : { 0u, 4u, 6u, 0xffffffffu }) {
        auto bad = good;
        set_u32(bad, 12, strings_size);
        EXPECT_TRUE(rejected(bad)) << strings_size;
    }
}

TEST(SymbolTable, EntryErrors)
{
    EXPECT_FALSE(rejected(make_raw({ { 0x1000, 0, 3 }, { 0x2000, 3, 2 } }, "abcde")));
    EXPECT_FALSE(rejected(make_raw({ { 0x1000, 0, 5 }, { 0x2000, 1, 2 } }, "abcde"))) << "names may overlap";

    EXPECT_TRUE(rejected(make_raw({ { 0x2000, 0, 1 }, { 0x1000, 1, 1 } }, "ab"))) << "unsorted";
    EXPECT_TRUE(rejected(make_raw({ { 0x1000, 0, 0 } }, "a"))) << "empty name";
    EXPECT_TRUE(rejected(make_raw({ { 0x1000, 0, 6 } }, "abcde"))) << "name past the strings";
    EXPECT_TRUE(rejected(make_raw({ { 0x1000, 5, 1 } }, "abcde"))) << "offset at the end";
    EXPECT_TRUE(rejected(make_raw({ { 0x1000, 0xffffffff, 2 } }, "abcde"))) << "offset + length wraps 32 bits";
    EXPECT_TRUE(rejected(make_raw({ { 0x1000, 2, 0xffffffff } }, "abcde")));
    EXPECT_TRUE(rejected(make_raw({ { 0x1000, 0, 3 } }, std::string("a\nc", 3)))) << "control byte";
    EXPECT_TRUE(rejected(make_raw({ { 0x1000, 0, 3 } }, std::string("a\0c", 3)))) << "NUL";
    EXPECT_TRUE(rejected(make_raw({ { 0x1000, 0, 2 } }, "\xc3\xa9"))) << "non-ASCII";
    // An unprintable byte outside every name is harmless.
    EXPECT_FALSE(rejected(make_raw({ { 0x1000, 0, 1 } }, "a\x01")));
}

TEST(SymbolTable, CorruptionNeverCrashes)
{
    auto good = make_table({ { 0x1000, "abc" }, { 0x2000, "de" }, { 0x2000, "f" } });
    for (size_t offset = 0; offset < good.size(); ++offset) {
        for (uint8_t value : { 0x00, 0x01, 0x10, 0x7f, 0x80, 0xff }) {
            auto corrupt = good;
            corrupt[offset] = value;
            auto loaded = load(corrupt);
            if (!loaded.table.is_error()) {
                for (uint64_t address : { 0x0ull, 0x1000ull, 0x1fffull, 0x2000ull, 0xffffffffffffffffull })
                    (void)loaded.table.value().lookup(address).has_value();
            }
        }
    }
}

// The build's path: nm output -> tools/mksyms.py -> the kernel's parser.
class MksymsTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (std::system("command -v python3 >/dev/null 2>&1") != 0)
            GTEST_SKIP() << "python3 is not available";
        char directory[] = "/tmp/tessera_mksyms_XXXXXX";
        ASSERT_NE(mkdtemp(directory), nullptr);
        m_directory = directory;
    }
    void TearDown() override
    {
        if (!m_directory.empty())
            (void)std::system(("rm -rf '" + m_directory + "'").c_str());
    }

    // Runs mksyms.py on `listing`; returns its exit status and the table.
    int run_mksyms(std::string const& listing, Bytes& table)
    {
        std::string input = m_directory + "/nm.txt";
        std::string output = m_directory + "/tessera.sym";
        std::ofstream(input, std::ios::binary) << listing;
        std::string command
            = "python3 '" + repository_root() + "/tools/mksyms.py' -o '" + output + "' < '" + input + "' 2>/dev/null";
        int status = std::system(command.c_str());
        std::ifstream result(output, std::ios::binary);
        table.assign(std::istreambuf_iterator<char>(result), std::istreambuf_iterator<char>());
        return status;
    }

    std::string m_directory;
};

TEST_F(MksymsTest, BuildsTableFromNmOutput)
{
    // As `nm -n --defined-only -C` prints it, data and absolute symbols included.
    std::string listing = "0000000000000000 A __kernel_physical_offset\n"
                          "ffffffff80100000 T _start\n"
                          "ffffffff80100000 T _start_alias\n"
                          "ffffffff80100040 t long_mode_entry\n"
                          "ffffffff80101000 T tessera::kmain(unsigned int, unsigned long)\n"
                          "ffffffff80101200 W tessera::ErrorOr<void>::release_value()\n"
                          "ffffffff80101300 r tessera::(anonymous namespace)::names\n"
                          "ffffffff80102000 t caf\xc3\xa9\n"
                          "ffffffff80200000 D s_data\n"
                          "ffffffff80300000 B s_bss\n"
                          "\n";
    Bytes bytes;
    ASSERT_EQ(run_mksyms(listing, bytes), 0);
    auto loaded = load(bytes);
    ASSERT_FALSE(loaded.table.is_error()) << loaded.table.error().what();
    auto& table = loaded.table.value();
    EXPECT_EQ(table.size(), 5u) << "T, t and W only; one per address";

    EXPECT_EQ(name_of(table.lookup(0xffffffff80100000)), "_start");
    EXPECT_EQ(name_of(table.lookup(0xffffffff80100041)), "long_mode_entry");
    auto kmain = table.lookup(0xffffffff80101010);
    ASSERT_TRUE(kmain);
    EXPECT_EQ(name_of(kmain), "tessera::kmain(unsigned int, unsigned long)");
    EXPECT_EQ(kmain.offset, 0x10u);
    EXPECT_EQ(name_of(table.lookup(0xffffffff80101300)), "tessera::ErrorOr<void>::release_value()")
        << "the rodata symbol is not a function";
    EXPECT_EQ(name_of(table.lookup(0xffffffff80102001)), "caf??") << "non-ASCII replaced";
    EXPECT_FALSE(table.lookup(0xffffffff800fffff));
}

TEST_F(MksymsTest, SortsUnsortedInput)
{
    Bytes bytes;
    ASSERT_EQ(run_mksyms("0000000000003000 T c\n0000000000001000 T a\n0000000000002000 t b\n", bytes), 0);
    auto loaded = load(bytes);
    ASSERT_FALSE(loaded.table.is_error());
    EXPECT_EQ(name_of(loaded.table.value().lookup(0x1800)), "a");
    EXPECT_EQ(name_of(loaded.table.value().lookup(0x2800)), "b");
    EXPECT_EQ(name_of(loaded.table.value().lookup(0x3800)), "c");
}

TEST_F(MksymsTest, EmptyListingGivesEmptyTable)
{
    Bytes bytes;
    ASSERT_EQ(run_mksyms("", bytes), 0);
    EXPECT_EQ(bytes.size(), symbol_table_header_size);
    auto loaded = load(bytes);
    ASSERT_FALSE(loaded.table.is_error());
    EXPECT_EQ(loaded.table.value().size(), 0u);
}

TEST_F(MksymsTest, RejectsMalformedListing)
{
    Bytes bytes;
    EXPECT_NE(run_mksyms("ffffffff8010zzzz T broken\n", bytes), 0);
    EXPECT_TRUE(bytes.empty()) << "no half-written table";
    EXPECT_NE(run_mksyms("1ffffffffffffffff T too_big\n", bytes), 0);
}
