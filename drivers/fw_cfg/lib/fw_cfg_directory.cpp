#include <drivers/fw_cfg/lib/fw_cfg_directory.h>
#include <kernel/lib/checked.h>

namespace tessera {

namespace {

uint16_t read_be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

uint32_t read_be32(const uint8_t* p)
{
    return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8
        | static_cast<uint32_t>(p[3]);
}

} // namespace

ErrorOr<uint32_t> parse_fw_cfg_file_count(const uint8_t* data, size_t length)
{
    if (data == nullptr || length < fw_cfg_count_size)
        return Error(Errno::INVAL, "fw_cfg: directory shorter than its count");
    return read_be32(data);
}

ErrorOr<FwCfgDirectoryEntry> parse_fw_cfg_directory_entry(const uint8_t* entry, size_t length)
{
    if (entry == nullptr || length < fw_cfg_entry_size)
        return Error(Errno::INVAL, "fw_cfg: directory entry shorter than 64 bytes");
    uint16_t selector = read_be16(entry + 4);
    if (selector < fw_cfg_first_file_selector)
        return Error(Errno::INVAL, "fw_cfg: directory entry selector is not a file selector");
    auto const* name = reinterpret_cast<const char*>(entry + 8);
    for (size_t i = 0; i < fw_cfg_name_capacity; ++i) {
        if (name[i] == '\0')
            return FwCfgDirectoryEntry { read_be32(entry), selector, StringView(name, i) };
    }
    return Error(Errno::INVAL, "fw_cfg: directory entry name not NUL-terminated");
}

ErrorOr<FwCfgFile> find_fw_cfg_file(const uint8_t* directory, size_t length, StringView name)
{
    if (name.is_empty())
        return Error(Errno::INVAL, "fw_cfg: empty file name");
    if (name.length() > fw_cfg_max_name_length)
        return Error(Errno::NAMETOOLONG, "fw_cfg: file name longer than 55 characters");
    uint32_t count = TRY(parse_fw_cfg_file_count(directory, length));
    size_t entries_size = TRY(checked_mul<size_t>(count, fw_cfg_entry_size));
    if (entries_size > length - fw_cfg_count_size)
        return Error(Errno::INVAL, "fw_cfg: directory count larger than the data");

    FwCfgFile found {};
    bool have_found = false;
    for (size_t i = 0; i < count; ++i) {
        auto entry = TRY(
            parse_fw_cfg_directory_entry(directory + fw_cfg_count_size + i * fw_cfg_entry_size, fw_cfg_entry_size));
        if (!have_found && entry.name == name) {
            found = { entry.size, entry.selector };
            have_found = true;
        }
    }
    if (!have_found)
        return Error(Errno::NOENT, "fw_cfg: no such file");
    return found;
}

} // namespace tessera
