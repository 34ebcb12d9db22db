// The shell's `net` command: every registered NIC's counters (what the
// NetDevice contract counts, whichever driver it is).

#include <kernel/console/console.h>
#include <kernel/init/init.h>
#include <kernel/shell/shell_command.h>
#include <net/device/net_device.h>

namespace tessera {

namespace {

unsigned long long load(const kstd::atomic<uint64_t>& counter)
{
    return static_cast<unsigned long long>(counter.load(kstd::memory_order_relaxed));
}

void print_net_devices()
{
    size_t count = net_device_count();
    if (count == 0)
        console_print("no network devices\n");
    for (size_t i = 0; i < count; ++i) {
        NetDevice* device = net_device_at(i);
        if (device == nullptr)
            continue;
        MacAddress mac = device->mac();
        auto& c = device->counters();
        console_print("%s: mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u\n", device->name(), mac.octets[0], mac.octets[1],
            mac.octets[2], mac.octets[3], mac.octets[4], mac.octets[5], device->mtu());
        console_print(
            "  rx %llu frames %llu bytes %llu dropped; tx %llu frames %llu bytes %llu dropped; %llu interrupts\n",
            load(c.rx_frames), load(c.rx_bytes), load(c.rx_dropped), load(c.tx_frames), load(c.tx_bytes),
            load(c.tx_dropped), load(c.interrupts));
    }
}

ErrorOr<void> net_shell_command_init() { return shell_register_command("net", print_net_devices); }

} // namespace

INIT_FUNCTION(late, net_shell_command, net_shell_command_init, Optional);

} // namespace tessera
