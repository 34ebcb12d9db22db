#include <kernel/debug/lib/symbol_table.h>
#include <kernel/debug/symbols.h>
#include <kernel/lib/format.h>

namespace tessera {

namespace {
constinit bool s_installed = false;
alignas(SymbolTable) char s_table_storage[sizeof(SymbolTable)];
SymbolTable& table() { return *reinterpret_cast<SymbolTable*>(s_table_storage); }
} // namespace

ErrorOr<void> symbols_install(const uint8_t* bytes, size_t length)
{
    auto parsed = TRY(SymbolTable::from_bytes(bytes, length));
    new (s_table_storage) SymbolTable(parsed);
    s_installed = true;
    return {};
}

void symbolize(uint64_t address, char* buffer, size_t size)
{
    if (s_installed) {
        auto symbol = table().lookup(address);
        if (symbol.has_value()) {
            format(buffer, size, "%.*s+%#llx", static_cast<int>(symbol.value().name.length()),
                symbol.value().name.data(), static_cast<unsigned long long>(symbol.value().offset));
            return;
        }
    }
    format(buffer, size, "?");
}

} // namespace tessera
