#include <drivers/fw_cfg/lib/fw_cfg_directory.h>

#include <byte_builder.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace tessera;
using namespace tessera::test;

namespace {

struct File {
    std::string name;
    uint32_t size;
    uint16_t selector;
};

Bytes entry_bytes(File const& file)
{
    Bytes entry;
    put_be32(entry, file.size);
    put_be16(entry, file.selector);
    put_be16(entry, 0);
    Bytes name(fw_cfg_name_capacity, 0);
    std::memcpy(name.data(), file.name.data(), std::min(file.name.size(), name.size()));
    entry.insert(entry.end(), name.begin(), name.end());
    return entry;
}

Bytes make_directory(std::vector<File> const& files, int64_t count_override = -1)
{
    Bytes directory;
    put_be32(directory, count_override >= 0 ? static_cast<uint32_t>(count_override) : files.size());
    for (auto const& file : files) {
        auto entry = entry_bytes(file);
        directory.insert(directory.end(), entry.begin(), entry.end());
    }
    return directory;
}

// Like QEMU with `-fw_cfg name=opt/tessera/config,file=...`.
std::vector<File> qemu_files()
{
    return { { "bios-geometry", 0, 0x20 }, { "bootorder", 0, 0x21 }, { "etc/acpi/rsdp", 36, 0x22 },
        { "etc/acpi/tables", 131072, 0x23 }, { "etc/e820", 40, 0x24 }, { "etc/smbios/smbios-tables", 343, 0x25 },
        { "opt/tessera/config", 97, 0x26 }, { "etc/table-loader", 4096, 0x27 } };
}

ErrorOr<FwCfgFile> find(Bytes const& directory, StringView name)
{
    auto copy = heap_copy(directory);
    return find_fw_cfg_file(copy.get(), directory.size(), name);
}

Errno find_error(Bytes const& directory, StringView name)
{
    auto result = find(directory, name);
    return result.is_error() ? result.error().code() : Errno {};
}

} // namespace

TEST(FwCfgDirectory, FindsFiles)
{
    auto directory = make_directory(qemu_files());
    auto config = MUST(find(directory, "opt/tessera/config"));
    EXPECT_EQ(config.size, 97u);
    EXPECT_EQ(config.selector, 0x26);
    auto tables = MUST(find(directory, "etc/acpi/tables"));
    EXPECT_EQ(tables.size, 131072u);
    EXPECT_EQ(tables.selector, 0x23);
    EXPECT_EQ(MUST(find(directory, "bios-geometry")).selector, 0x20);
    EXPECT_EQ(MUST(find(directory, "etc/table-loader")).selector, 0x27);
}

TEST(FwCfgDirectory, MissingFile)
{
    auto directory = make_directory(qemu_files());
    EXPECT_EQ(find_error(directory, "opt/tessera/conf"), Errno::NOENT) << "prefix";
    EXPECT_EQ(find_error(directory, "opt/tessera/config2"), Errno::NOENT) << "longer";
    EXPECT_EQ(find_error(directory, "OPT/TESSERA/CONFIG"), Errno::NOENT) << "case matters";
    EXPECT_EQ(find_error(make_directory({}), "opt/tessera/config"), Errno::NOENT) << "empty directory";
}

TEST(FwCfgDirectory, NameLimits)
{
    std::string longest(55, 'n');
    auto directory = make_directory({ { longest, 5, 0x30 } });
    EXPECT_EQ(MUST(find(directory, StringView(longest.data(), longest.size()))).size, 5u);
    std::string too_long(56, 'n');
    EXPECT_EQ(find_error(directory, StringView(too_long.data(), too_long.size())), Errno::NAMETOOLONG);
    EXPECT_EQ(find_error(directory, ""), Errno::INVAL);
    // A name with an embedded NUL cannot match the entry cut at its NUL.
    EXPECT_EQ(find_error(make_directory({ { "a", 1, 0x20 } }), StringView("a\0b", 3)), Errno::NOENT);
}

TEST(FwCfgDirectory, FirstDuplicateWins)
{
    auto directory = make_directory({ { "x", 1, 0x20 }, { "x", 2, 0x21 } });
    EXPECT_EQ(MUST(find(directory, "x")).selector, 0x20);
}

TEST(FwCfgDirectory, CountErrors)
{
    EXPECT_TRUE(find_fw_cfg_file(nullptr, 100, "x").is_error());
    EXPECT_EQ(find_error({}, "x"), Errno::INVAL);
    EXPECT_EQ(find_error({ 0, 0, 0 }, "x"), Errno::INVAL);
    auto files = qemu_files();
    EXPECT_EQ(find_error(make_directory(files, files.size() + 1), "opt/tessera/config"), Errno::INVAL);
    EXPECT_EQ(find_error(make_directory(files, 0xffffffff), "opt/tessera/config"), Errno::INVAL);
    EXPECT_EQ(find_error(make_directory(files, 0x04000000), "opt/tessera/config"), Errno::INVAL);
    // A count smaller than the data limits the search; the rest is ignored.
    EXPECT_EQ(find_error(make_directory(files, 2), "opt/tessera/config"), Errno::NOENT);
    // The data cut inside the last entry.
    auto cut = make_directory(files);
    cut.pop_back();
    EXPECT_EQ(find_error(cut, "opt/tessera/config"), Errno::INVAL);
}

TEST(FwCfgDirectory, EntryErrors)
{
    // A name filling all 56 bytes has no NUL: malformed, even if another
    // entry is the one looked for.
    auto files = qemu_files();
    files.push_back({ std::string(56, 'z'), 1, 0x40 });
    EXPECT_EQ(find_error(make_directory(files), "opt/tessera/config"), Errno::INVAL);
    // A selector below the file range.
    EXPECT_EQ(find_error(make_directory({ { "x", 1, 0x19 } }), "x"), Errno::INVAL);
    EXPECT_EQ(find_error(make_directory({ { "y", 1, 0x21 }, { "x", 1, 0x00 } }), "y"), Errno::INVAL);
}

TEST(FwCfgDirectory, EntryParser)
{
    auto entry = entry_bytes({ "etc/e820", 0x01020304, 0x0a0b });
    auto parsed = MUST(parse_fw_cfg_directory_entry(entry.data(), entry.size()));
    EXPECT_EQ(parsed.size, 0x01020304u) << "big-endian";
    EXPECT_EQ(parsed.selector, 0x0a0b);
    EXPECT_TRUE(parsed.name == "etc/e820");
    EXPECT_TRUE(parse_fw_cfg_directory_entry(entry.data(), 63).is_error());
    EXPECT_TRUE(parse_fw_cfg_directory_entry(nullptr, 64).is_error());

    uint8_t count[] = { 0x00, 0x00, 0x01, 0x02 };
    EXPECT_EQ(MUST(parse_fw_cfg_file_count(count, 4)), 0x102u);
    EXPECT_TRUE(parse_fw_cfg_file_count(count, 3).is_error());
}

TEST(FwCfgDirectory, TruncationAndCorruptionNeverCrash)
{
    auto directory = make_directory(qemu_files());
    for (size_t length = 0; length < directory.size(); ++length) {
        Bytes prefix(directory.begin(), directory.begin() + length);
        EXPECT_TRUE(find(prefix, "etc/table-loader").is_error()) << length;
    }
    for (size_t offset = 0; offset < directory.size(); ++offset) {
        for (uint8_t value : { 0x00, 0x01, 0x7f, 0xff }) {
            auto corrupt = directory;
            corrupt[offset] = value;
            (void)find(corrupt, "opt/tessera/config").is_error();
        }
    }
}
