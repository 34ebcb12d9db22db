#include <kernel/boot/boot.h>
#include <kernel/console/console.h>
#include <kernel/init/init.h>
#include <kernel/shell/shell_command.h>
#include <net/inet/net_stack.h>

namespace tessera {

namespace {

// Written once at the fabric level, before anything above reads it.
kstd::atomic<NetInterface*> s_primary { nullptr };
// Why the stack is down, for the shell.
const char* s_down_reason = "not started";

void ip_command()
{
    NetInterface* interface = s_primary.load();
    if (interface == nullptr) {
        console_print("ip: down (%s)\n", s_down_reason);
        return;
    }
    interface->print_status();
}

ErrorOr<void> net_stack_init()
{
    // `net` (net/device) lists the NICs; `ip` is this interface.
    MUST(shell_register_command("ip", ip_command));
    const NodeConfig& config = node_config();
    if (!config.ip_configured) {
        s_down_reason = "no tessera.ip configured";
        infoln("net: no tessera.ip configured; the network stack stays down");
        return {};
    }
    NetDevice* device = net_device_at(0);
    if (device == nullptr) {
        s_down_reason = "no network device";
        infoln("net: no network device; the network stack stays down");
        return {};
    }
    auto interface_config = NetInterface::default_config(*device, config.ip, config.prefix_length);
    auto created = NetInterface::try_create(*device, interface_config);
    if (created.is_error()) {
        s_down_reason = "interface creation failed";
        return created.release_error();
    }
    NetInterface* interface = created.release_value().leak_ptr();
    s_primary.store(interface);
    auto const& ip = config.ip.octets;
    auto const& mac = interface_config.mac.octets;
    infoln("net: %s up: %u.%u.%u.%u/%u ether %02x:%02x:%02x:%02x:%02x:%02x mtu %u", device->name(), ip[0], ip[1], ip[2],
        ip[3], config.prefix_length, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], interface_config.mtu);
    return {};
}

} // namespace

NetInterface* net_primary_interface() { return s_primary.load(); }

INIT_FUNCTION(fabric, net_stack, net_stack_init, Optional);

} // namespace tessera
