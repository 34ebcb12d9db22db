#include <drivers/acpi/lib/acpi_tables.h>

#include <byte_builder.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace tessera;
using namespace tessera::test;

namespace {

void fix_checksum(Bytes& bytes, size_t checksum_offset, size_t length)
{
    bytes[checksum_offset] = 0;
    bytes[checksum_offset] = static_cast<uint8_t>(-acpi_checksum(bytes.data(), length));
}

// A system description table: header with `signature`, then `body`.
Bytes make_sdt(char const* signature, Bytes const& body)
{
    Bytes table(acpi_sdt_header_size, 0);
    std::memcpy(table.data(), signature, 4);
    set_u32(table, 4, static_cast<uint32_t>(acpi_sdt_header_size + body.size()));
    table[8] = 1; // Revision.
    std::memcpy(table.data() + 10, "TESSRA", 6);
    table.insert(table.end(), body.begin(), body.end());
    fix_checksum(table, 9, table.size());
    return table;
}

Bytes make_rsdp(uint8_t revision, uint32_t rsdt, uint64_t xsdt = 0)
{
    Bytes rsdp;
    for (char c : std::string("RSD PTR "))
        rsdp.push_back(static_cast<uint8_t>(c));
    put_u8(rsdp, 0); // Checksum.
    for (char c : std::string("BOCHS "))
        rsdp.push_back(static_cast<uint8_t>(c));
    put_u8(rsdp, revision);
    put_u32(rsdp, rsdt);
    if (revision >= 2) {
        put_u32(rsdp, 36);
        put_u64(rsdp, xsdt);
        put_u8(rsdp, 0); // Extended checksum.
        rsdp.insert(rsdp.end(), 3, 0);
    }
    fix_checksum(rsdp, 8, 20);
    if (revision >= 2)
        fix_checksum(rsdp, 32, 36);
    return rsdp;
}

// Physical memory made of separate heap blocks of exactly their size, so
// that ASan catches any read past what was asked of the reader.
class FakePhysicalMemory {
public:
    void place(uint64_t physical, Bytes const& bytes) { m_blocks[physical] = { heap_copy(bytes), bytes.size() }; }
    uint8_t* at(uint64_t physical) { return m_blocks.at(physical).data.get(); }

    static uint8_t const* read(void* context, uint64_t physical, size_t length)
    {
        auto& self = *static_cast<FakePhysicalMemory*>(context);
        ++self.reads;
        auto it = self.m_blocks.upper_bound(physical);
        if (it == self.m_blocks.begin())
            return nullptr;
        --it;
        uint64_t offset = physical - it->first;
        if (offset > it->second.size || length > it->second.size - offset)
            return nullptr;
        // Hand out a pointer to exactly `length` bytes when the whole block
        // is not asked for, to catch over-reads.
        if (offset == 0 && length == it->second.size)
            return it->second.data.get();
        self.m_views.push_back(heap_copy(it->second.data.get() + offset, length));
        return self.m_views.back().get();
    }

    size_t reads { 0 };

private:
    struct Block {
        std::unique_ptr<uint8_t[]> data;
        size_t size;
    };
    std::map<uint64_t, Block> m_blocks;
    std::vector<std::unique_ptr<uint8_t[]>> m_views;
};

Bytes xsdt_body(std::vector<uint64_t> const& entries)
{
    Bytes body;
    for (auto entry : entries)
        put_u64(body, entry);
    return body;
}

Bytes rsdt_body(std::vector<uint32_t> const& entries)
{
    Bytes body;
    for (auto entry : entries)
        put_u32(body, entry);
    return body;
}

// --- MADT entry builders ----------------------------------------------------

Bytes local_apic(uint8_t uid, uint8_t apic_id, uint32_t flags)
{
    Bytes e { 0, 8, uid, apic_id };
    put_u32(e, flags);
    return e;
}

Bytes io_apic(uint8_t id, uint32_t address, uint32_t gsi_base)
{
    Bytes e { 1, 12, id, 0 };
    put_u32(e, address);
    put_u32(e, gsi_base);
    return e;
}

Bytes source_override(uint8_t irq, uint32_t gsi, uint16_t flags)
{
    Bytes e { 2, 10, 0, irq };
    put_u32(e, gsi);
    put_u16(e, flags);
    return e;
}

Bytes address_override(uint64_t address)
{
    Bytes e { 5, 12, 0, 0 };
    put_u64(e, address);
    return e;
}

Bytes local_x2apic(uint32_t x2apic_id, uint32_t flags, uint32_t uid)
{
    Bytes e { 9, 16, 0, 0 };
    put_u32(e, x2apic_id);
    put_u32(e, flags);
    put_u32(e, uid);
    return e;
}

Bytes make_madt(std::vector<Bytes> const& entries, uint32_t lapic = 0xfee00000, uint32_t flags = 1)
{
    Bytes body;
    put_u32(body, lapic);
    put_u32(body, flags);
    for (auto const& entry : entries)
        body.insert(body.end(), entry.begin(), entry.end());
    return make_sdt("APIC", body);
}

ErrorOr<MadtInfo> parse(Bytes const& table)
{
    auto copy = heap_copy(table);
    return parse_madt(copy.get(), table.size());
}

Errno madt_error(Bytes const& table)
{
    auto result = parse(table);
    EXPECT_TRUE(result.is_error());
    return result.is_error() ? result.error().code() : Errno {};
}

} // namespace

// --- RSDP -------------------------------------------------------------------

TEST(AcpiRsdp, Version1)
{
    auto bytes = make_rsdp(0, 0x7fe1000);
    auto rsdp = MUST(parse_rsdp(bytes.data(), bytes.size()));
    EXPECT_EQ(rsdp.revision, 0);
    EXPECT_EQ(rsdp.rsdt_address, 0x7fe1000u);
    EXPECT_EQ(rsdp.xsdt_address, 0u);
    EXPECT_STREQ(rsdp.oem_id, "BOCHS ");
}

TEST(AcpiRsdp, Version2)
{
    auto bytes = make_rsdp(2, 0x7fe1000, 0x1'0000'2000);
    auto rsdp = MUST(parse_rsdp(bytes.data(), bytes.size()));
    EXPECT_EQ(rsdp.revision, 2);
    EXPECT_EQ(rsdp.rsdt_address, 0x7fe1000u);
    EXPECT_EQ(rsdp.xsdt_address, 0x1'0000'2000u);

    // The same RSDP cut to its first 20 bytes is an ACPI 1.0 view.
    auto cut = MUST(parse_rsdp(bytes.data(), 20));
    EXPECT_EQ(cut.revision, 2);
    EXPECT_EQ(cut.xsdt_address, 0u);
}

TEST(AcpiRsdp, Rejects)
{
    EXPECT_TRUE(parse_rsdp(nullptr, 36).is_error());
    auto v1 = make_rsdp(0, 0x1000);
    EXPECT_TRUE(parse_rsdp(v1.data(), 19).is_error());

    auto bad_signature = v1;
    bad_signature[3] = 'X';
    fix_checksum(bad_signature, 8, 20);
    EXPECT_TRUE(parse_rsdp(bad_signature.data(), 20).is_error());

    auto bad_checksum = v1;
    bad_checksum[8] ^= 1;
    EXPECT_TRUE(parse_rsdp(bad_checksum.data(), 20).is_error());

    auto v2 = make_rsdp(2, 0x1000, 0x2000);
    auto bad_extended = v2;
    bad_extended[32] ^= 1;
    EXPECT_TRUE(parse_rsdp(bad_extended.data(), 36).is_error());

    // An XSDP length below 36, or beyond the bytes given.
    for (uint32_t length : { 0u, 20u, 35u, 37u, 0xffffffffu }) {
        auto bad_length = v2;
        set_u32(bad_length, 20, length);
        fix_checksum(bad_length, 32, 36);
        EXPECT_TRUE(parse_rsdp(bad_length.data(), 36).is_error()) << length;
    }

    // The extended checksum covers the XSDP's own length, which can be longer.
    auto longer = v2;
    longer.resize(40, 0);
    set_u32(longer, 20, 40);
    longer[39] = 5;
    fix_checksum(longer, 32, 40);
    EXPECT_FALSE(parse_rsdp(longer.data(), 40).is_error());
    longer[39] = 6;
    EXPECT_TRUE(parse_rsdp(longer.data(), 40).is_error());
}

TEST(AcpiRsdp, OemIdIsSanitized)
{
    auto bytes = make_rsdp(0, 0x1000);
    bytes[9] = 0x07;
    fix_checksum(bytes, 8, 20);
    EXPECT_STREQ(MUST(parse_rsdp(bytes.data(), 20)).oem_id, "?OCHS ");
}

// --- Table search -----------------------------------------------------------

TEST(AcpiFind, ThroughXsdt)
{
    FakePhysicalMemory memory;
    auto facp = make_sdt("FACP", Bytes(80, 0x11));
    auto madt = make_madt({ local_apic(0, 0, 1) });
    memory.place(0x1'0000'0000, make_sdt("XSDT", xsdt_body({ 0, 0x7000, 0x1'0000'8000 })));
    memory.place(0x7000, facp);
    memory.place(0x1'0000'8000, madt);
    // The RSDT has no MADT: finding it proves the XSDT was used.
    memory.place(0x6000, make_sdt("RSDT", rsdt_body({ 0x7000 })));

    auto rsdp_bytes = make_rsdp(2, 0x6000, 0x1'0000'0000);
    auto rsdp = MUST(parse_rsdp(rsdp_bytes.data(), rsdp_bytes.size()));
    auto table = MUST(find_acpi_table(rsdp, "APIC", FakePhysicalMemory::read, &memory));
    EXPECT_EQ(table.physical, 0x1'0000'8000u);
    EXPECT_EQ(table.length, madt.size());
    EXPECT_EQ(std::memcmp(table.data, madt.data(), madt.size()), 0);

    auto fadt = MUST(find_acpi_table(rsdp, "FACP", FakePhysicalMemory::read, &memory));
    EXPECT_EQ(fadt.physical, 0x7000u);
    EXPECT_EQ(fadt.length, facp.size());

    auto missing = find_acpi_table(rsdp, "HPET", FakePhysicalMemory::read, &memory);
    ASSERT_TRUE(missing.is_error());
    EXPECT_EQ(missing.error().code(), Errno::NOENT);
}

TEST(AcpiFind, ThroughRsdt)
{
    FakePhysicalMemory memory;
    memory.place(0x6000, make_sdt("RSDT", rsdt_body({ 0x7000, 0x8000 })));
    memory.place(0x7000, make_sdt("FACP", Bytes(80, 0)));
    memory.place(0x8000, make_madt({}));
    auto rsdp_bytes = make_rsdp(0, 0x6000);
    auto rsdp = MUST(parse_rsdp(rsdp_bytes.data(), rsdp_bytes.size()));
    EXPECT_EQ(MUST(find_acpi_table(rsdp, "APIC", FakePhysicalMemory::read, &memory)).physical, 0x8000u);
    EXPECT_EQ(find_acpi_table(rsdp, "SSDT", FakePhysicalMemory::read, &memory).error().code(), Errno::NOENT);
}

TEST(AcpiFind, FirstMatchWins)
{
    FakePhysicalMemory memory;
    memory.place(0x6000, make_sdt("RSDT", rsdt_body({ 0x7000, 0x8000 })));
    memory.place(0x7000, make_sdt("SSDT", Bytes(4, 1)));
    memory.place(0x8000, make_sdt("SSDT", Bytes(8, 2)));
    Rsdp rsdp { 0, "", 0x6000, 0 };
    EXPECT_EQ(MUST(find_acpi_table(rsdp, "SSDT", FakePhysicalMemory::read, &memory)).physical, 0x7000u);
}

TEST(AcpiFind, ArgumentErrors)
{
    FakePhysicalMemory memory;
    Rsdp rsdp { 0, "", 0x6000, 0 };
    EXPECT_EQ(find_acpi_table(rsdp, "API", FakePhysicalMemory::read, &memory).error().code(), Errno::INVAL);
    EXPECT_EQ(find_acpi_table(rsdp, "APICS", FakePhysicalMemory::read, &memory).error().code(), Errno::INVAL);
    EXPECT_EQ(find_acpi_table(rsdp, "APIC", nullptr, &memory).error().code(), Errno::INVAL);
    Rsdp empty { 0, "", 0, 0 };
    EXPECT_EQ(find_acpi_table(empty, "APIC", FakePhysicalMemory::read, &memory).error().code(), Errno::INVAL);
}

TEST(AcpiFind, RootTableErrors)
{
    Rsdp rsdp { 0, "", 0x6000, 0 };
    auto error_with_root = [&](Bytes const& root) {
        FakePhysicalMemory memory;
        memory.place(0x6000, root);
        memory.place(0x7000, make_madt({}));
        auto result = find_acpi_table(rsdp, "APIC", FakePhysicalMemory::read, &memory);
        return result.is_error() ? result.error().code() : Errno {};
    };
    auto good = make_sdt("RSDT", rsdt_body({ 0x7000 }));
    EXPECT_EQ(error_with_root(good), Errno {});

    // Unmappable root.
    {
        FakePhysicalMemory memory;
        EXPECT_EQ(find_acpi_table(rsdp, "APIC", FakePhysicalMemory::read, &memory).error().code(), Errno::FAULT);
    }
    // Wrong signature (an XSDT where the RSDT should be).
    EXPECT_EQ(error_with_root(make_sdt("XSDT", rsdt_body({ 0x7000 }))), Errno::INVAL);
    // Bad checksum.
    auto bad_sum = good;
    bad_sum[36] ^= 0xff;
    EXPECT_EQ(error_with_root(bad_sum), Errno::INVAL);
    // Length below the header, beyond the mapping, absurdly large.
    for (uint32_t length : { 0u, 35u, 41u, 0x10000000u }) {
        auto bad = good;
        set_u32(bad, 4, length);
        fix_checksum(bad, 9, std::min<size_t>(length, bad.size()));
        auto code = error_with_root(bad);
        EXPECT_TRUE(code == Errno::INVAL || code == Errno::FAULT) << length;
    }
    // A length that ends inside an entry.
    auto partial = make_sdt("RSDT", { 0, 0x70, 0, 0, 0, 0 });
    EXPECT_EQ(error_with_root(partial), Errno::INVAL);
}

TEST(AcpiFind, XsdtEntryErrors)
{
    Rsdp rsdp { 2, "", 0, 0x5000 };
    // A 4-byte tail in an XSDT is a partial 8-byte entry.
    {
        FakePhysicalMemory memory;
        auto body = xsdt_body({ 0x7000 });
        put_u32(body, 0);
        memory.place(0x5000, make_sdt("XSDT", body));
        memory.place(0x7000, make_madt({}));
        EXPECT_EQ(find_acpi_table(rsdp, "APIC", FakePhysicalMemory::read, &memory).error().code(), Errno::INVAL);
    }
    // An entry pointing at nothing mappable.
    {
        FakePhysicalMemory memory;
        memory.place(0x5000, make_sdt("XSDT", xsdt_body({ 0xdead0000 })));
        EXPECT_EQ(find_acpi_table(rsdp, "APIC", FakePhysicalMemory::read, &memory).error().code(), Errno::FAULT);
    }
    // An entry whose end would wrap past 2^64.
    {
        FakePhysicalMemory memory;
        memory.place(0x5000, make_sdt("XSDT", xsdt_body({ 0xfffffffffffffff0 })));
        EXPECT_EQ(find_acpi_table(rsdp, "APIC", FakePhysicalMemory::read, &memory).error().code(), Errno::OVERFLOW);
    }
    // The matching table is corrupt: an error, not a silent skip.
    {
        FakePhysicalMemory memory;
        memory.place(0x5000, make_sdt("XSDT", xsdt_body({ 0x7000 })));
        auto madt = make_madt({});
        madt[40] ^= 1;
        memory.place(0x7000, madt);
        EXPECT_EQ(find_acpi_table(rsdp, "APIC", FakePhysicalMemory::read, &memory).error().code(), Errno::INVAL);
    }
    // A table claiming more than can be mapped.
    {
        FakePhysicalMemory memory;
        memory.place(0x5000, make_sdt("XSDT", xsdt_body({ 0x7000 })));
        auto madt = make_madt({});
        set_u32(madt, 4, 4096);
        memory.place(0x7000, madt);
        EXPECT_EQ(find_acpi_table(rsdp, "APIC", FakePhysicalMemory::read, &memory).error().code(), Errno::FAULT);
    }
    // A corrupt table that is not the one asked for does not matter.
    {
        FakePhysicalMemory memory;
        memory.place(0x5000, make_sdt("XSDT", xsdt_body({ 0x6000, 0x7000 })));
        auto hpet = make_sdt("HPET", Bytes(20, 0));
        hpet[9] ^= 1;
        memory.place(0x6000, hpet);
        memory.place(0x7000, make_madt({}));
        EXPECT_EQ(MUST(find_acpi_table(rsdp, "APIC", FakePhysicalMemory::read, &memory)).physical, 0x7000u);
    }
}

// --- MADT -------------------------------------------------------------------

TEST(AcpiMadt, QemuLikeTable)
{
    auto madt = make_madt({ local_apic(0, 0, 1), local_apic(1, 1, 1), local_apic(2, 2, 0), local_apic(3, 3, 2),
        io_apic(0, 0xfec00000, 0), source_override(0, 2, 0), source_override(5, 5, 0x000d),
        source_override(9, 9, 0x000d), source_override(10, 10, 0x000d), source_override(11, 11, 0x000d),
        Bytes { 4, 6, 0xff, 0, 0, 1 } /* local APIC NMI: skipped */ });
    auto info = MUST(parse(madt));
    EXPECT_EQ(info.local_apic_address, 0xfee00000u);
    EXPECT_EQ(info.flags, 1u);
    EXPECT_FALSE(info.truncated);

    // Processor 2 is neither enabled nor online-capable.
    ASSERT_EQ(info.processor_count, 3u);
    EXPECT_EQ(info.processors[0].apic_id, 0u);
    EXPECT_TRUE(info.processors[0].enabled);
    EXPECT_EQ(info.processors[1].apic_id, 1u);
    EXPECT_EQ(info.processors[2].apic_id, 3u);
    EXPECT_EQ(info.processors[2].acpi_uid, 3u);
    EXPECT_FALSE(info.processors[2].enabled) << "online-capable only";
    EXPECT_FALSE(info.processors[2].x2apic);

    ASSERT_EQ(info.io_apic_count, 1u);
    EXPECT_EQ(info.io_apics[0].id, 0);
    EXPECT_EQ(info.io_apics[0].address, 0xfec00000u);
    EXPECT_EQ(info.io_apics[0].gsi_base, 0u);

    ASSERT_EQ(info.override_count, 5u);
    EXPECT_EQ(info.overrides[0].source_irq, 0);
    EXPECT_EQ(info.overrides[0].gsi, 2u);
    EXPECT_EQ(info.overrides[0].bus, 0);
    EXPECT_EQ(info.overrides[4].source_irq, 11);
    EXPECT_EQ(info.overrides[4].flags, 0x000d);
}

TEST(AcpiMadt, X2ApicAndAddressOverride)
{
    auto madt = make_madt({ local_apic(0, 0, 1), local_x2apic(0, 1, 0) /* same CPU again */, local_x2apic(300, 1, 7),
                              local_x2apic(301, 0, 8), address_override(0x1'fee0'0000) },
        0xfee00000);
    auto info = MUST(parse(madt));
    EXPECT_EQ(info.local_apic_address, 0x1'fee0'0000u);
    ASSERT_EQ(info.processor_count, 2u);
    EXPECT_FALSE(info.processors[0].x2apic);
    EXPECT_EQ(info.processors[1].apic_id, 300u);
    EXPECT_EQ(info.processors[1].acpi_uid, 7u);
    EXPECT_TRUE(info.processors[1].x2apic);

    EXPECT_EQ(madt_error(make_madt({ address_override(1), address_override(2) })), Errno::INVAL);
}

TEST(AcpiMadt, LongerEntriesFromNewerAcpiAreAccepted)
{
    auto entry = local_apic(0, 4, 1);
    entry[1] = 12;
    entry.insert(entry.end(), 4, 0xaa);
    auto info = MUST(parse(make_madt({ entry, local_apic(1, 5, 1) })));
    ASSERT_EQ(info.processor_count, 2u);
    EXPECT_EQ(info.processors[1].apic_id, 5u);
}

TEST(AcpiMadt, ProcessorTruncation)
{
    std::vector<Bytes> entries;
    for (uint32_t i = 0; i < 64; ++i)
        entries.push_back(local_x2apic(i, 1, i));
    auto exact = MUST(parse(make_madt(entries)));
    EXPECT_EQ(exact.processor_count, 64u);
    EXPECT_FALSE(exact.truncated);

    entries.push_back(local_x2apic(64, 0, 64)); // Disabled: does not count.
    entries.push_back(local_x2apic(5, 1, 5)); // Duplicate: does not count.
    EXPECT_FALSE(MUST(parse(make_madt(entries))).truncated);

    entries.push_back(local_x2apic(100, 1, 100));
    entries.push_back(local_apic(0, 200, 1));
    auto over = MUST(parse(make_madt(entries)));
    EXPECT_EQ(over.processor_count, 64u);
    EXPECT_TRUE(over.truncated);
    EXPECT_EQ(over.processors[63].apic_id, 63u);
}

TEST(AcpiMadt, IoApicAndOverrideCapacity)
{
    std::vector<Bytes> io_apics;
    for (uint8_t i = 0; i < 8; ++i)
        io_apics.push_back(io_apic(i, 0xfec00000 + i * 0x1000, i * 24));
    EXPECT_EQ(MUST(parse(make_madt(io_apics))).io_apic_count, 8u);
    io_apics.push_back(io_apic(8, 0xfec08000, 192));
    EXPECT_EQ(madt_error(make_madt(io_apics)), Errno::NOSPC);

    std::vector<Bytes> overrides;
    for (uint8_t i = 0; i < 24; ++i)
        overrides.push_back(source_override(i, i, 0));
    EXPECT_EQ(MUST(parse(make_madt(overrides))).override_count, 24u);
    overrides.push_back(source_override(0, 2, 0));
    EXPECT_EQ(madt_error(make_madt(overrides)), Errno::NOSPC);
}

TEST(AcpiMadt, HeaderErrors)
{
    EXPECT_TRUE(parse_madt(nullptr, 100).is_error());
    auto good = make_madt({ local_apic(0, 0, 1) });
    EXPECT_TRUE(parse_madt(good.data(), 43).is_error());
    EXPECT_TRUE(parse_madt(good.data(), good.size() - 1).is_error()) << "header length beyond the buffer";

    auto wrong_signature = make_sdt("APIX", Bytes(8, 0));
    EXPECT_EQ(madt_error(wrong_signature), Errno::INVAL);

    auto bad_sum = good;
    bad_sum[36] ^= 1;
    EXPECT_EQ(madt_error(bad_sum), Errno::INVAL);

    auto short_length = good;
    set_u32(short_length, 4, 40);
    fix_checksum(short_length, 9, 40);
    EXPECT_EQ(madt_error(short_length), Errno::INVAL);

    // A header length shorter than the buffer: only that much is parsed.
    auto padded = make_madt({});
    padded.resize(padded.size() + 8, 0xff);
    EXPECT_EQ(MUST(parse(padded)).processor_count, 0u);
}

TEST(AcpiMadt, EntryErrors)
{
    // Entry length 0 (an endless loop for a naive walker) and 1.
    EXPECT_EQ(madt_error(make_madt({ Bytes { 0, 0, 0, 0, 0, 0, 0, 0 } })), Errno::INVAL);
    EXPECT_EQ(madt_error(make_madt({ Bytes { 7, 1 } })), Errno::INVAL);
    // A lone byte at the end: an entry header crossing the end.
    EXPECT_EQ(madt_error(make_madt({ local_apic(0, 0, 1), Bytes { 0 } })), Errno::INVAL);
    // An entry claiming more than the table.
    auto long_entry = local_apic(0, 0, 1);
    long_entry[1] = 9;
    EXPECT_EQ(madt_error(make_madt({ long_entry })), Errno::INVAL);
    // Entries shorter than their type needs.
    EXPECT_EQ(madt_error(make_madt({ Bytes { 0, 6, 0, 0, 1, 0 } })), Errno::INVAL);
    EXPECT_EQ(madt_error(make_madt({ Bytes { 1, 8, 0, 0, 0, 0, 0xc0, 0xfe } })), Errno::INVAL);
    EXPECT_EQ(madt_error(make_madt({ Bytes { 2, 8, 0, 0, 2, 0, 0, 0 } })), Errno::INVAL);
    EXPECT_EQ(madt_error(make_madt({ Bytes { 5, 8, 0, 0, 0, 0, 0, 0 } })), Errno::INVAL);
    EXPECT_EQ(madt_error(make_madt({ Bytes { 9, 12, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0 } })), Errno::INVAL);
    // Unknown types only need the 2-byte header.
    EXPECT_FALSE(parse(make_madt({ Bytes { 0x7f, 2 }, Bytes { 0x10, 3, 0 } })).is_error());
}

TEST(AcpiMadt, TruncationAndCorruptionNeverCrash)
{
    auto madt = make_madt({ local_apic(0, 0, 1), io_apic(0, 0xfec00000, 0), source_override(0, 2, 0),
        local_x2apic(9, 1, 9), address_override(0xfee00000) });
    for (size_t length = 0; length <= madt.size(); ++length) {
        Bytes prefix(madt.begin(), madt.begin() + length);
        EXPECT_EQ(parse(prefix).is_error(), length != madt.size()) << length;
    }
    for (size_t offset = 0; offset < madt.size(); ++offset) {
        for (uint8_t value : { 0x00, 0x01, 0x02, 0x7f, 0xff }) {
            if (offset == 9)
                continue; // The checksum byte itself is recomputed below.
            auto corrupt = madt;
            corrupt[offset] = value;
            fix_checksum(corrupt, 9, corrupt.size()); // Get past the checksum to the entry walk.
            (void)parse(corrupt).is_error();
        }
    }
}
