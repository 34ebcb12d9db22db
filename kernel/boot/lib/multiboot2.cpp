#include <kernel/boot/lib/multiboot2.h>

namespace tessera {

namespace {

// [multiboot2]: 3.6.2 "Basic tags structure" and the per-tag sections.
enum TagType : uint32_t {
    End = 0,
    CommandLine = 1,
    BootloaderName = 2,
    Module = 3,
    MemoryMap = 6,
    AcpiOldRsdp = 14,
    AcpiNewRsdp = 15,
};

constexpr size_t fixed_part_size = 8;
constexpr size_t tag_header_size = 8;
constexpr size_t tag_alignment = 8;
constexpr size_t module_header_size = 16;
constexpr size_t memory_map_header_size = 16;
constexpr size_t memory_map_min_entry_size = 24;
constexpr size_t rsdp_v1_length = 20;
constexpr size_t rsdp_v2_length = 36;

// Byte loads: the structure is only promised to be 8-byte aligned as a
// whole, and this keeps the parser free of aliasing assumptions.
uint32_t read_u32(const uint8_t* p)
{
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16
        | static_cast<uint32_t>(p[3]) << 24;
}

uint64_t read_u64(const uint8_t* p) { return read_u32(p) | static_cast<uint64_t>(read_u32(p + 4)) << 32; }

MemoryType memory_type_from_multiboot(uint32_t type)
{
    switch (type) {
    case 1:
        return MemoryType::Usable;
    case 3:
        return MemoryType::AcpiReclaimable;
    case 4:
        return MemoryType::AcpiNvs;
    case 5:
        return MemoryType::Bad;
    default:
        // 2 and anything a future loader invents: not ours to touch.
        return MemoryType::Reserved;
    }
}

// The text in [data, data + length) up to its NUL, which must be inside.
ErrorOr<StringView> terminated_string(const uint8_t* data, size_t length)
{
    for (size_t i = 0; i < length; ++i) {
        if (data[i] == 0)
            return StringView(reinterpret_cast<const char*>(data), i);
    }
    return Error(Errno::INVAL, "multiboot2: string not NUL-terminated within its tag");
}

ErrorOr<void> parse_memory_map(BootInfo& boot_info, const uint8_t* tag, size_t tag_size)
{
    if (tag_size < memory_map_header_size)
        return Error(Errno::INVAL, "multiboot2: memory map tag too small");
    uint32_t entry_size = read_u32(tag + 8);
    if (entry_size < memory_map_min_entry_size || entry_size % 8 != 0)
        return Error(Errno::INVAL, "multiboot2: memory map entry_size not a multiple of 8 of at least 24");
    size_t entries_size = tag_size - memory_map_header_size;
    if (entries_size % entry_size != 0)
        return Error(Errno::INVAL, "multiboot2: memory map ends inside an entry");

    for (size_t offset = 0; offset < entries_size; offset += entry_size) {
        const uint8_t* entry = tag + memory_map_header_size + offset;
        uint64_t base = read_u64(entry);
        uint64_t length = read_u64(entry + 8);
        uint64_t end;
        if (__builtin_add_overflow(base, length, &end))
            return Error(Errno::INVAL, "multiboot2: memory map entry wraps past 2^64");
        if (boot_info.memory_region_count == boot_info_max_memory_regions)
            return Error(Errno::NOSPC, "multiboot2: more memory map entries than BootInfo holds");
        boot_info.memory_regions[boot_info.memory_region_count++]
            = { base, length, memory_type_from_multiboot(read_u32(entry + 16)) };
    }
    boot_info.has_memory_map = true;
    return {};
}

ErrorOr<void> parse_module(BootInfo& boot_info, const uint8_t* tag, size_t tag_size)
{
    if (tag_size < module_header_size)
        return Error(Errno::INVAL, "multiboot2: module tag too small");
    uint32_t start = read_u32(tag + 8);
    uint32_t end = read_u32(tag + 12);
    if (end < start)
        return Error(Errno::INVAL, "multiboot2: module ends before it starts");
    auto name = TRY(terminated_string(tag + module_header_size, tag_size - module_header_size));
    if (boot_info.module_count == boot_info_max_modules)
        return Error(Errno::NOSPC, "multiboot2: more modules than BootInfo holds");
    boot_info.modules[boot_info.module_count++] = { start, end, name };
    return {};
}

} // namespace

ErrorOr<void> check_multiboot2_magic(uint32_t eax)
{
    if (eax != multiboot2_bootloader_magic)
        return Error(Errno::INVAL, "not started by a multiboot2 loader (bad magic in EAX)");
    return {};
}

ErrorOr<BootInfo> parse_multiboot2(const uint8_t* info, size_t available)
{
    if (info == nullptr)
        return Error(Errno::INVAL, "multiboot2: no boot information");
    if (reinterpret_cast<uintptr_t>(info) % tag_alignment != 0)
        return Error(Errno::INVAL, "multiboot2: boot information not 8-byte aligned");
    if (available < fixed_part_size)
        return Error(Errno::INVAL, "multiboot2: boot information smaller than its fixed part");
    size_t total_size = read_u32(info);
    if (total_size < fixed_part_size + tag_header_size)
        return Error(Errno::INVAL, "multiboot2: total_size too small for an end tag");
    if (total_size > available)
        return Error(Errno::INVAL, "multiboot2: total_size larger than the readable buffer");

    BootInfo boot_info {};
    bool have_command_line = false;
    bool have_bootloader_name = false;
    const uint8_t* old_rsdp = nullptr;
    size_t old_rsdp_length = 0;

    // Invariant: offset is 8-aligned and offset <= total_size.
    size_t offset = fixed_part_size;
    while (true) {
        if (total_size - offset < tag_header_size)
            return Error(Errno::INVAL, "multiboot2: no end tag before total_size");
        const uint8_t* tag = info + offset;
        uint32_t type = read_u32(tag);
        size_t size = read_u32(tag + 4);
        if (size < tag_header_size)
            return Error(Errno::INVAL, "multiboot2: tag smaller than its header");
        if (size > total_size - offset)
            return Error(Errno::INVAL, "multiboot2: tag crosses total_size");
        const uint8_t* payload = tag + tag_header_size;
        size_t payload_size = size - tag_header_size;

        switch (type) {
        case TagType::End:
            if (size != tag_header_size)
                return Error(Errno::INVAL, "multiboot2: end tag size is not 8");
            if (boot_info.rsdp == nullptr && old_rsdp != nullptr) {
                boot_info.rsdp = old_rsdp;
                boot_info.rsdp_length = old_rsdp_length;
            }
            return boot_info;
        case TagType::CommandLine:
            if (have_command_line)
                return Error(Errno::INVAL, "multiboot2: two command line tags");
            boot_info.command_line = TRY(terminated_string(payload, payload_size));
            have_command_line = true;
            break;
        case TagType::BootloaderName:
            if (have_bootloader_name)
                return Error(Errno::INVAL, "multiboot2: two boot loader name tags");
            boot_info.bootloader_name = TRY(terminated_string(payload, payload_size));
            have_bootloader_name = true;
            break;
        case TagType::Module:
            TRY(parse_module(boot_info, tag, size));
            break;
        case TagType::MemoryMap:
            if (boot_info.has_memory_map)
                return Error(Errno::INVAL, "multiboot2: two memory map tags");
            TRY(parse_memory_map(boot_info, tag, size));
            break;
        case TagType::AcpiOldRsdp:
            if (old_rsdp != nullptr)
                return Error(Errno::INVAL, "multiboot2: two old ACPI RSDP tags");
            if (payload_size < rsdp_v1_length)
                return Error(Errno::INVAL, "multiboot2: old ACPI RSDP tag shorter than an RSDP");
            old_rsdp = payload;
            old_rsdp_length = payload_size;
            break;
        case TagType::AcpiNewRsdp:
            if (boot_info.rsdp != nullptr)
                return Error(Errno::INVAL, "multiboot2: two new ACPI RSDP tags");
            if (payload_size < rsdp_v2_length)
                return Error(Errno::INVAL, "multiboot2: new ACPI RSDP tag shorter than an XSDP");
            boot_info.rsdp = payload;
            boot_info.rsdp_length = payload_size;
            boot_info.rsdp_is_xsdp = true;
            break;
        default:
            // Framebuffer, EFI tables, load base address, ...: not used yet.
            break;
        }

        // Tags are padded to 8 bytes; the padding of the last tag before the
        // end tag is inside total_size, so a pad past it means no end tag.
        offset += size;
        size_t padding = (tag_alignment - offset % tag_alignment) % tag_alignment;
        if (padding > total_size - offset)
            return Error(Errno::INVAL, "multiboot2: no end tag before total_size");
        offset += padding;
    }
}

} // namespace tessera
