// Byte-building helpers for the host tests of binary parsers (ACPI tables,
// Multiboot2 information, fw_cfg directory, symbol table): append or patch
// fixed-width integers in a byte vector, and copy the result to an exact-size
// heap block before parsing it, so that AddressSanitizer flags any read past
// the length the parser was given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace tessera::test {

using Bytes = std::vector<uint8_t>;

// --- Little-endian (ACPI, Multiboot2, symbol table) --------------------------

inline void put_u8(Bytes& out, uint8_t value) { out.push_back(value); }

inline void put_u16(Bytes& out, uint16_t value)
{
    out.push_back(static_cast<uint8_t>(value));
    out.push_back(static_cast<uint8_t>(value >> 8));
}

inline void put_u32(Bytes& out, uint32_t value)
{
    for (int i = 0; i < 4; ++i)
        out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

inline void put_u64(Bytes& out, uint64_t value)
{
    put_u32(out, static_cast<uint32_t>(value));
    put_u32(out, static_cast<uint32_t>(value >> 32));
}

// Overwrites the four bytes at `offset`, which must already exist.
inline void set_u32(Bytes& out, size_t offset, uint32_t value)
{
    for (int i = 0; i < 4; ++i)
        out.at(offset + i) = static_cast<uint8_t>(value >> (8 * i));
}

// --- Big-endian (fw_cfg) -----------------------------------------------------

inline void put_be16(Bytes& out, uint16_t value)
{
    out.push_back(static_cast<uint8_t>(value >> 8));
    out.push_back(static_cast<uint8_t>(value));
}

inline void put_be32(Bytes& out, uint32_t value)
{
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<uint8_t>(value >> shift));
}

// --- Exact-size copies for ASan ----------------------------------------------

// A heap block of exactly `size` bytes holding a copy of `data`: a read one
// byte past the end is a heap-buffer-overflow. A zero `size` gives a
// zero-byte block, where any read is one.
inline std::unique_ptr<uint8_t[]> heap_copy(uint8_t const* data, size_t size)
{
    auto copy = std::make_unique<uint8_t[]>(size);
    if (size != 0)
        std::memcpy(copy.get(), data, size);
    return copy;
}

inline std::unique_ptr<uint8_t[]> heap_copy(Bytes const& bytes) { return heap_copy(bytes.data(), bytes.size()); }

} // namespace tessera::test
