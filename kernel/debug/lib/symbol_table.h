#pragma once
// The kernel's own symbol table, for symbolized backtraces and panics. The
// build writes it with tools/mksyms.py from `nm -n --defined-only -C` of
// build/tessera.elf and GRUB loads it as a multiboot2 module, so the kernel
// image needs no second link to embed its own symbols.
//
// Format (little-endian):
//   "TSYM", u32 version (1), u32 count, u32 strings_size,
//   count x { u64 address; u32 name_offset; u32 name_length }, sorted by address,
//   strings_size bytes of names (printable ASCII, not NUL-terminated).

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>
#include <kernel/lib/string_view.h>

namespace tessera {

constexpr uint32_t symbol_table_version = 1;
constexpr size_t symbol_table_header_size = 16;
constexpr size_t symbol_table_entry_size = 16;
// nm gives no sizes; an address this far past the nearest symbol is more
// likely outside the kernel's text than inside that symbol.
constexpr uint64_t symbol_lookup_max_distance = 1024 * 1024;

// The result of SymbolTable::lookup(), Optional-style: test it before use.
struct SymbolLookup {
    StringView name;
    uint64_t symbol_address { 0 }; // Where the symbol starts.
    uint64_t offset { 0 }; // The looked-up address minus symbol_address.
    bool found { false };

    constexpr bool has_value() const { return found; }
    constexpr explicit operator bool() const { return found; }
};

class SymbolTable {
public:
    // An empty table: every lookup finds nothing (before the module is loaded).
    constexpr SymbolTable() = default;

    // Validates the whole table (magic, version, sizes with checked
    // arithmetic, exact total length, sortedness, every name inside the
    // string table, non-empty and printable). The table then points into
    // `data`, which must outlive it. EINVAL for anything malformed.
    static ErrorOr<SymbolTable> from_bytes(const uint8_t* data, size_t length);

    size_t size() const { return m_count; }

    // The symbol containing `address`: the one with the greatest address <=
    // `address` (the first listed among equals), provided `address` is less
    // than symbol_lookup_max_distance past it.
    SymbolLookup lookup(uint64_t address) const;

private:
    SymbolTable(const uint8_t* entries, const char* strings, size_t count)
        : m_entries(entries)
        , m_strings(strings)
        , m_count(count)
    {
    }

    uint64_t address_at(size_t index) const;
    StringView name_at(size_t index) const;

    const uint8_t* m_entries { nullptr };
    const char* m_strings { nullptr };
    size_t m_count { 0 };
};

} // namespace tessera
