#include <kernel/debug/lib/symbol_table.h>
#include <kernel/lib/checked.h>

namespace tessera {

namespace {

// Byte loads: a module is page-aligned in practice, but nothing promises it.
uint32_t read_u32(const uint8_t* p)
{
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16
        | static_cast<uint32_t>(p[3]) << 24;
}

uint64_t read_u64(const uint8_t* p) { return read_u32(p) | static_cast<uint64_t>(read_u32(p + 4)) << 32; }

} // namespace

ErrorOr<SymbolTable> SymbolTable::from_bytes(const uint8_t* data, size_t length)
{
    if (data == nullptr || length < symbol_table_header_size)
        return Error(Errno::INVAL, "symbols: shorter than the header");
    if (data[0] != 'T' || data[1] != 'S' || data[2] != 'Y' || data[3] != 'M')
        return Error(Errno::INVAL, "symbols: magic is not TSYM");
    if (read_u32(data + 4) != symbol_table_version)
        return Error(Errno::INVAL, "symbols: unsupported version");
    size_t count = read_u32(data + 8);
    size_t strings_size = read_u32(data + 12);

    size_t entries_size = TRY(checked_mul<size_t>(count, symbol_table_entry_size));
    size_t expected = TRY(checked_add<size_t>(symbol_table_header_size, entries_size));
    expected = TRY(checked_add<size_t>(expected, strings_size));
    if (length != expected)
        return Error(Errno::INVAL, "symbols: length does not match count and strings_size");

    const uint8_t* entries = data + symbol_table_header_size;
    auto const* strings = reinterpret_cast<const char*>(entries + entries_size);
    uint64_t previous_address = 0;
    for (size_t i = 0; i < count; ++i) {
        const uint8_t* entry = entries + i * symbol_table_entry_size;
        uint64_t address = read_u64(entry);
        size_t name_offset = read_u32(entry + 8);
        size_t name_length = read_u32(entry + 12);
        if (i > 0 && address < previous_address)
            return Error(Errno::INVAL, "symbols: entries not sorted by address");
        previous_address = address;
        if (name_length == 0)
            return Error(Errno::INVAL, "symbols: empty name");
        size_t name_end = TRY(checked_add<size_t>(name_offset, name_length));
        if (name_end > strings_size)
            return Error(Errno::INVAL, "symbols: name outside the string table");
        // Names go straight to the console in a panic: no control bytes.
        for (size_t j = name_offset; j < name_end; ++j) {
            auto c = static_cast<unsigned char>(strings[j]);
            if (c < 0x20 || c > 0x7e)
                return Error(Errno::INVAL, "symbols: name has an unprintable byte");
        }
    }
    return SymbolTable(entries, strings, count);
}

uint64_t SymbolTable::address_at(size_t index) const { return read_u64(m_entries + index * symbol_table_entry_size); }

StringView SymbolTable::name_at(size_t index) const
{
    const uint8_t* entry = m_entries + index * symbol_table_entry_size;
    return { m_strings + read_u32(entry + 8), read_u32(entry + 12) };
}

SymbolLookup SymbolTable::lookup(uint64_t address) const
{
    // Binary search for the first entry above `address`.
    size_t low = 0;
    size_t high = m_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (address_at(middle) <= address)
            low = middle + 1;
        else
            high = middle;
    }
    if (low == 0)
        return {};
    size_t index = low - 1;
    uint64_t symbol_address = address_at(index);
    while (index > 0 && address_at(index - 1) == symbol_address)
        --index;
    uint64_t offset = address - symbol_address;
    if (offset >= symbol_lookup_max_distance)
        return {};
    return SymbolLookup { name_at(index), symbol_address, offset, true };
}

} // namespace tessera
