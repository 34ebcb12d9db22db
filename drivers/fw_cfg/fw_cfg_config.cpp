// fw_cfg as a source of the node configuration: the file
// opt/tessera/config, applied after the kernel command line.
#include <drivers/fw_cfg/fw_cfg.h>
#include <kernel/boot/boot.h>
#include <kernel/init/init.h>

namespace tessera {

namespace {

ErrorOr<size_t> read_config(uint8_t* buffer, size_t capacity)
{
    return fw_cfg_read_file("opt/tessera/config", buffer, capacity);
}

constexpr ConfigSource s_source { "fw_cfg opt/tessera/config", read_config };

ErrorOr<void> fw_cfg_config_init()
{
    if (fw_cfg_present())
        boot_register_config_source(s_source);
    return {};
}

} // namespace

INIT_FUNCTION(early, fw_cfg_config, fw_cfg_config_init, Fatal);

} // namespace tessera
