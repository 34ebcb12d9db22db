#pragma once
// QEMU's fw_cfg file directory, the list behind selector 0x19 that names the
// files given with `-fw_cfg name=opt/...,file=...`. [qemu]: docs/specs/
// fw_cfg.rst, "FW_CFG_FILE_DIR (0x19)". All fields are big-endian.

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>
#include <kernel/lib/string_view.h>

namespace tessera {

constexpr uint16_t fw_cfg_file_directory_selector = 0x19;
// Selectors of files start here (FW_CFG_FILE_FIRST); anything lower is a
// fixed item, so a directory entry pointing there is corrupt.
constexpr uint16_t fw_cfg_first_file_selector = 0x20;

constexpr size_t fw_cfg_count_size = 4;
// { u32 size; u16 select; u16 reserved; char name[56]; }
constexpr size_t fw_cfg_entry_size = 64;
constexpr size_t fw_cfg_name_capacity = 56;
constexpr size_t fw_cfg_max_name_length = fw_cfg_name_capacity - 1;

struct FwCfgFile {
    uint32_t size;
    uint16_t selector;
};

struct FwCfgDirectoryEntry {
    uint32_t size;
    uint16_t selector;
    StringView name; // Points into the entry; up to 55 characters.
};

// The big-endian entry count at the start of the directory.
ErrorOr<uint32_t> parse_fw_cfg_file_count(const uint8_t* data, size_t length);

// One 64-byte entry. EINVAL when the name has no NUL within its 56 bytes or
// the selector is not a file selector.
ErrorOr<FwCfgDirectoryEntry> parse_fw_cfg_directory_entry(const uint8_t* entry, size_t length);

// Looks `name` up in a whole directory (count and entries) of `length`
// bytes; every entry is validated, and the first one named `name` wins.
// Errors: ENOENT when absent, EINVAL for a malformed directory (count larger
// than the data, an entry as above) or an empty name, ENAMETOOLONG for a
// name that no entry can hold.
ErrorOr<FwCfgFile> find_fw_cfg_file(const uint8_t* directory, size_t length, StringView name);

} // namespace tessera
