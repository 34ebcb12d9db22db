#include <kernel/debug/lib/symbol_table.h>
#include <kernel/debug/symbols.h>
#include <kernel/lib/format.h>

namespace tessera {

namespace {
// Empty until the "symbols" module is installed; written once at boot.
SymbolTable s_table;
} // namespace

ErrorOr<void> symbols_install(const uint8_t* bytes, size_t length)
{
    s_table = TRY(SymbolTable::from_bytes(bytes, length));
    return {};
}

void symbolize(uint64_t address, char* buffer, size_t size)
{
    SymbolLookup symbol = s_table.lookup(address);
    if (!symbol) {
        format(buffer, size, "?");
        return;
    }
    format(buffer, size, "%.*s+%#llx", static_cast<int>(symbol.name.length()), symbol.name.data(),
        static_cast<unsigned long long>(symbol.offset));
}

} // namespace tessera
