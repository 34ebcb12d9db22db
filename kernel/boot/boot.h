#pragma once
// Boot steps of kernel_main that read outside input: the multiboot2
// information and the node configuration. Each refuses the boot with a
// clear message (and ExitCode::BootRefused) on bad input.

#include <kernel/boot/lib/multiboot2.h>
#include <kernel/config/lib/node_config.h>

namespace tessera {

[[noreturn, gnu::format(printf, 1, 2)]] void refuse_boot(const char* fmt, ...);

// Validates the magic and parses the information GRUB left at `physical`.
const BootInfo& read_boot_info(uint32_t magic, uint64_t physical, uint64_t& info_size);
// The multiboot2 command line, then fw_cfg's opt/tessera/config on top.
NodeConfig read_node_config(const BootInfo& info);
const NodeConfig& node_config();

// The smallest machine Tessera runs on.
constexpr uint64_t minimum_memory_bytes = 40ull << 20;

} // namespace tessera
