#include <arch/io.h>
#include <drivers/fw_cfg/fw_cfg.h>
#include <drivers/fw_cfg/lib/fw_cfg_directory.h>

namespace tessera {

namespace {

// [qemu]: fw_cfg.rst, "Selector (Control) Register" and "Data Register".
constexpr uint16_t selector_port = 0x510;
constexpr uint16_t data_port = 0x511;
constexpr uint16_t signature_selector = 0x0000;

// QEMU has a few dozen files; a count far beyond that means the device is
// not what it claims, and would only make the loop below spin.
constexpr uint32_t max_directory_entries = 4096;
// Entries read per chunk: a small stack buffer instead of the whole
// directory (no heap this early).
constexpr size_t entries_per_chunk = 8;

// Selecting an item also rewinds its data offset to 0.
void select_item(uint16_t selector) { arch::out16(selector_port, selector); }

void read_data(uint8_t* out, size_t count)
{
    for (size_t i = 0; i < count; ++i)
        out[i] = arch::in8(data_port);
}

} // namespace

bool fw_cfg_present()
{
    uint8_t signature[4];
    select_item(signature_selector);
    read_data(signature, sizeof(signature));
    return signature[0] == 'Q' && signature[1] == 'E' && signature[2] == 'M' && signature[3] == 'U';
}

ErrorOr<size_t> fw_cfg_read_file(StringView name, uint8_t* buffer, size_t capacity)
{
    if (name.is_empty())
        return Error(Errno::INVAL, "fw_cfg: empty file name");
    if (name.length() > fw_cfg_max_name_length)
        return Error(Errno::NAMETOOLONG, "fw_cfg: file name longer than 55 characters");
    if (!fw_cfg_present())
        return Error(Errno::NODEV, "fw_cfg: no QEMU fw_cfg device");

    select_item(fw_cfg_file_directory_selector);
    uint8_t count_bytes[fw_cfg_count_size];
    read_data(count_bytes, sizeof(count_bytes));
    uint32_t count = TRY(parse_fw_cfg_file_count(count_bytes, sizeof(count_bytes)));
    if (count > max_directory_entries)
        return Error(Errno::INVAL, "fw_cfg: implausible directory entry count");

    // The data register streams the directory, so it is read once, a chunk
    // at a time, stopping at the first match.
    uint8_t chunk[entries_per_chunk * fw_cfg_entry_size];
    bool have_found = false;
    FwCfgFile found {};
    for (uint32_t done = 0; done < count && !have_found;) {
        uint32_t remaining = count - done;
        size_t entries = remaining < entries_per_chunk ? remaining : entries_per_chunk;
        read_data(chunk, entries * fw_cfg_entry_size);
        for (size_t i = 0; i < entries && !have_found; ++i) {
            auto entry = TRY(parse_fw_cfg_directory_entry(chunk + i * fw_cfg_entry_size, fw_cfg_entry_size));
            if (entry.name == name) {
                found = { entry.size, entry.selector };
                have_found = true;
            }
        }
        done += static_cast<uint32_t>(entries);
    }
    if (!have_found)
        return Error(Errno::NOENT, "fw_cfg: no such file");
    if (found.size > capacity)
        return Error(Errno::OVERFLOW, "fw_cfg: file larger than the buffer");

    select_item(found.selector);
    read_data(buffer, found.size);
    return static_cast<size_t>(found.size);
}

} // namespace tessera
