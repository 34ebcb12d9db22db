#pragma once
// Boot steps of kernel_main that read outside input: the multiboot2
// information and the node configuration. Each refuses the boot with a
// clear message (and ExitCode::BootRefused) on bad input.

#include <kernel/boot/lib/multiboot2.h>
#include <kernel/config/lib/node_config.h>
#include <kernel/lib/error_or.h>

namespace tessera {

[[noreturn, gnu::format(printf, 1, 2)]] void refuse_boot(const char* fmt, ...);

// Validates the magic and parses the information GRUB left at `physical`.
const BootInfo& read_boot_info(uint32_t magic, uint64_t physical, uint64_t& info_size);
// What read_boot_info() parsed (for drivers: the RSDP copy, modules).
const BootInfo& boot_info();

// Configuration text from outside the command line, applied after it in
// registration order (drivers/fw_cfg registers one at the early level).
// `read` returns the text's length, or ENOENT when there is none.
struct ConfigSource {
    const char* name; // in diagnostics: "(from <name>)"
    ErrorOr<size_t> (*read)(uint8_t* buffer, size_t capacity);
};
// `source` must live forever.
void boot_register_config_source(const ConfigSource& source);

// The multiboot2 command line, then every registered source on top.
NodeConfig read_node_config(const BootInfo& info);
const NodeConfig& node_config();

// The smallest machine Tessera runs on.
constexpr uint64_t minimum_memory_bytes = 40ull << 20;

} // namespace tessera
