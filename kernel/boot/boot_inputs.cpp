#include <arch/paging.h>
#include <kernel/boot/boot.h>
#include <kernel/console/console.h>
#include <kernel/lib/format.h>
#include <kernel/platform/exit.h>

namespace tessera {

namespace {

constinit BootInfo s_boot_info {};
constinit NodeConfig s_config {};
constexpr size_t max_config_text = 4096;
uint8_t s_config_text[max_config_text];
constexpr size_t max_config_sources = 4;
// Registered at the early init level, on the boot CPU.
constinit const ConfigSource* s_sources[max_config_sources] {};
constinit size_t s_source_count = 0;

} // namespace

void refuse_boot(const char* fmt, ...)
{
    char reason[256];
    va_list args;
    va_start(args, fmt);
    vformat(reason, sizeof(reason), fmt, args);
    va_end(args);
    console_print("\nTESSERA: BOOT REFUSED: %s\n", reason);
    platform_exit(ExitCode::BootRefused);
}

const BootInfo& read_boot_info(uint32_t magic, uint64_t physical, uint64_t& info_size)
{
    if (check_multiboot2_magic(magic).is_error())
        refuse_boot("not started by a multiboot2 loader (magic %#x)", magic);
    // The boot page tables map the first 4 GiB; the information is there.
    if (physical == 0 || physical + 8 > BOOT_PHYSMAP_SIZE || (physical & 7) != 0)
        refuse_boot("multiboot2 information at an unusable address %#llx", static_cast<unsigned long long>(physical));
    auto* bytes = static_cast<const uint8_t*>(arch::physical_to_virtual(physical));
    uint32_t total_size = *reinterpret_cast<const uint32_t*>(bytes);
    uint64_t available = BOOT_PHYSMAP_SIZE - physical;
    auto parsed = parse_multiboot2(bytes, total_size < available ? total_size : available);
    if (parsed.is_error())
        refuse_boot("bad multiboot2 information: %s (%s)", parsed.error().what() ? parsed.error().what() : "invalid",
            errno_name(parsed.error().code()));
    s_boot_info = parsed.release_value();
    info_size = total_size;
    return s_boot_info;
}

const BootInfo& boot_info() { return s_boot_info; }

void boot_register_config_source(const ConfigSource& source)
{
    if (s_source_count < max_config_sources)
        s_sources[s_source_count++] = &source;
    else
        warnln("boot: too many configuration sources; %s ignored", source.name);
}

NodeConfig read_node_config(const BootInfo& info)
{
    NodeConfig config = default_node_config();
    ConfigDiagnostic diagnostic {};
    if (apply_config(config, info.command_line, diagnostic).is_error())
        refuse_boot("configuration: %s: %s (from the kernel command line)", diagnostic.key, diagnostic.reason);
    for (size_t i = 0; i < s_source_count; ++i) {
        const ConfigSource& source = *s_sources[i];
        auto length = source.read(s_config_text, sizeof(s_config_text));
        if (length.is_error() && length.error().code() == Errno::NOENT)
            continue;
        if (length.is_error())
            refuse_boot("configuration: %s: %s (%s)", source.name,
                length.error().what() ? length.error().what() : "unreadable", errno_name(length.error().code()));
        StringView text(reinterpret_cast<const char*>(s_config_text), length.value());
        if (apply_config(config, text, diagnostic).is_error())
            refuse_boot("configuration: %s: %s (from %s)", diagnostic.key, diagnostic.reason, source.name);
    }
    s_config = config;
    return config;
}

const NodeConfig& node_config() { return s_config; }

} // namespace tessera
