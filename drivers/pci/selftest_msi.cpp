// Selftests of PCI configuration access, MSI and MSI-X on QEMU's devices.
// They need `-device edu` (PCI 1234:11e8: MSI, one vector, 64-bit) and
// `-device virtio-net-pci` (1af4:1000: MSI-X); tools/check.py's selftest
// boots add both. Until the harness can skip a case, a missing device is a
// failure that names the flag.
//
// MSI is shown end to end: edu raises its interrupt (write to BAR0+0x60),
// the handler runs on the CPU the message names with the vector it names,
// and acknowledges (BAR0+0x64). MSI-X is shown up to the table: entries
// are programmed and read back through the mapped BAR. A virtio-net
// function sends MSI-X messages only for a configured virtqueue or a
// config change, which needs the virtio-net driver (the next issue).

#include <arch/interrupts.h>
#include <arch/paging.h>
#include <arch/per_cpu.h>
#include <drivers/pci/msi.h>
#include <drivers/pci/msi_vectors.h>
#include <drivers/pci/msix.h>
#include <drivers/pci/pci.h>
#include <kernel/console/console.h>
#include <kernel/sched/scheduler.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/selftest.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

constexpr uint16_t edu_vendor = 0x1234;
constexpr uint16_t edu_device = 0x11e8;
constexpr uint16_t virtio_vendor = 0x1af4;
constexpr uint16_t virtio_net_transitional = 0x1000;
constexpr uint16_t virtio_net_modern = 0x1041;

// [qemu]: docs/specs/edu.rst, "MMIO area spec" (32-bit accesses only).
namespace edu_register {
constexpr size_t identification = 0x00 / 4; // 0xRRrr00ed
constexpr size_t liveness = 0x04 / 4; // reads back inverted
constexpr size_t interrupt_status = 0x24 / 4;
constexpr size_t interrupt_raise = 0x60 / 4;
constexpr size_t interrupt_acknowledge = 0x64 / 4;
} // namespace edu_register

constexpr uint64_t delivery_timeout_ns = 2 * ns_per_second;

ErrorOr<PciDevice> find_or_explain(uint16_t vendor, uint16_t device, const char* flag)
{
    auto found = pci_find_device(vendor, device);
    if (found.is_error())
        console_print("    # PCI %04x:%04x not found: boot QEMU with %s\n", vendor, device, flag);
    return found;
}

ErrorOr<volatile uint32_t*> map_edu_registers(const PciDevice& edu)
{
    auto bar = TRY(edu.bar(0));
    if (!bar.is_memory() || bar.address == 0)
        return Error(Errno::NXIO, "edu: BAR0 not an assigned memory BAR");
    edu.enable_command(pci_command::memory_space);
    auto* base = TRY(arch::map_mmio(bar.address, 0x1000));
    return static_cast<volatile uint32_t*>(base);
}

void configuration_space_and_scan()
{
    // The host bridge is always at 00:00.0.
    auto host_bridge = KMUST(pci_read_device({ 0, 0, 0 }));
    KEXPECT(host_bridge.vendor_id != pci_vendor_none);
    KEXPECT_EQ(host_bridge.class_code, 0x06); // bridge
    KEXPECT(pci_read_device({ 0, 32, 0 }).is_error());
    struct Count {
        size_t functions;
        bool saw_host_bridge;
    } count { 0, false };
    pci_scan(
        [](const PciDevice& device, void* context) {
            auto& count = *static_cast<Count*>(context);
            ++count.functions;
            count.saw_host_bridge |= device.address == PciAddress { 0, 0, 0 };
            return true;
        },
        &count);
    console_print("    # %zu PCI functions\n", count.functions);
    KEXPECT(count.saw_host_bridge);
    KEXPECT(count.functions >= 2);
    auto absent = pci_find_device(0x1234, 0xdead);
    KEXPECT(absent.is_error() && absent.error().code() == Errno::NODEV);
}

void edu_bar_sized_and_registers_reachable()
{
    auto edu = KMUST(find_or_explain(edu_vendor, edu_device, "-device edu"));
    auto bar = KMUST(edu.bar(0));
    KEXPECT(bar.kind == PciBarKind::Memory32);
    KEXPECT_EQ(bar.size, 1u << 20); // "PCI Region 0: I/O memory, 1 MB in size"
    KEXPECT(bar.address != 0);
    // Sizing restored the BAR: the registers still answer where they were.
    auto* registers = KMUST(map_edu_registers(edu));
    KEXPECT_EQ(registers[edu_register::identification] & 0xffff, 0x00edu);
    registers[edu_register::liveness] = 0x1234'5678;
    KEXPECT_EQ(registers[edu_register::liveness], ~0x1234'5678u);
    // edu has MSI but no MSI-X: the walker must say "absent", not fail.
    auto config = edu.config();
    auto msix = pci_find_msix_capability(config);
    KEXPECT(msix.is_error() && msix.error().code() == Errno::NOENT);
    auto msi = KMUST(pci_find_msi_capability(config));
    KEXPECT(msi.is_64bit);
    KEXPECT_EQ(msi.vectors_capable, 1);
}

struct EduDelivery {
    volatile uint32_t* registers;
    kstd::atomic<uint32_t> count { 0 };
    kstd::atomic<uint32_t> cpu { ~0u };
    kstd::atomic<uint32_t> vector { 0 };
    kstd::atomic<uint32_t> status { 0 };
};

void edu_interrupt(void* context, uint8_t vector)
{
    auto& delivery = *static_cast<EduDelivery*>(context);
    uint32_t status = delivery.registers[edu_register::interrupt_status];
    // edu.rst: the handler must acknowledge, even under MSI.
    delivery.registers[edu_register::interrupt_acknowledge] = status;
    delivery.status.store(status, kstd::memory_order_relaxed);
    delivery.cpu.store(arch::this_cpu_local().index, kstd::memory_order_relaxed);
    delivery.vector.store(vector, kstd::memory_order_relaxed);
    delivery.count.fetch_add(1, kstd::memory_order_release);
}

bool wait_for_count(const EduDelivery& delivery, uint32_t target)
{
    uint64_t deadline = uptime_ns() + delivery_timeout_ns;
    while (delivery.count.load(kstd::memory_order_acquire) < target) {
        if (uptime_ns() > deadline)
            return false;
        Scheduler::yield();
    }
    return true;
}

void edu_msi_delivered_to_each_cpu()
{
    auto edu = KMUST(find_or_explain(edu_vendor, edu_device, "-device edu"));
    EduDelivery delivery;
    delivery.registers = KMUST(map_edu_registers(edu));
    uint8_t vector = KMUST(msi_vector_allocate(edu_interrupt, &delivery));
    console_print(
        "    # edu at %02x:%02x.%u, vector %#x\n", edu.address.bus, edu.address.device, edu.address.function, vector);
    MsiCapability msi {};
    for (size_t cpu = 0; cpu < arch::cpu_count(); ++cpu) {
        auto enabled = pci_enable_msi(edu, arch::cpu_at(cpu).apic_id, vector);
        KEXPECT(!enabled.is_error());
        if (enabled.is_error())
            break;
        msi = enabled.value();
        uint32_t before = delivery.count.load();
        uint32_t raised = 0x100u | static_cast<uint32_t>(cpu);
        delivery.registers[edu_register::interrupt_raise] = raised;
        KEXPECT(wait_for_count(delivery, before + 1));
        KEXPECT_EQ(delivery.count.load(), before + 1);
        KEXPECT_EQ(delivery.cpu.load(), cpu);
        KEXPECT_EQ(delivery.vector.load(), vector);
        KEXPECT_EQ(delivery.status.load(), raised);
        KEXPECT_EQ(delivery.registers[edu_register::interrupt_status], 0u);
    }
    // Control: with MSI off (and INTx disabled) a raise reaches no handler.
    pci_disable_msi(edu, msi);
    uint32_t before = delivery.count.load();
    delivery.registers[edu_register::interrupt_raise] = 0x1;
    sleep_ms(20);
    KEXPECT_EQ(delivery.count.load(), before);
    delivery.registers[edu_register::interrupt_acknowledge] = 0x1;
    msi_vector_free(vector);
}

void msi_vectors_come_from_the_device_range()
{
    // Take every free device vector: each is distinct, inside the range the
    // IRQ layer allocates from, and the one after the last is ENOSPC.
    constexpr size_t range = arch::vector::last_device - arch::vector::first_device + 1;
    uint8_t vectors[range];
    bool seen[256] {};
    size_t taken = 0;
    auto noop = [](void*, uint8_t) {};
    for (;;) {
        auto vector = msi_vector_allocate(noop, nullptr);
        if (vector.is_error()) {
            KEXPECT(vector.error().code() == Errno::NOSPC);
            break;
        }
        KEXPECT(vector.value() >= arch::vector::first_device && vector.value() <= arch::vector::last_device);
        KEXPECT(!seen[vector.value()]);
        seen[vector.value()] = true;
        if (taken == range) {
            KEXPECT(!"more vectors than the device range holds");
            break;
        }
        vectors[taken++] = vector.value();
    }
    // The IOAPIC pins (serial) hold a few; the rest must all have been free.
    KEXPECT(taken >= range - 8);
    for (size_t i = 0; i < taken; ++i)
        msi_vector_free(vectors[i]);
    // And they are free again.
    auto again = msi_vector_allocate(noop, nullptr);
    KEXPECT(!again.is_error());
    if (!again.is_error())
        msi_vector_free(again.value());
}

void virtio_net_msix_table_programmed_and_read_back()
{
    // Transitional (legacy + modern) on QEMU's pc machine; modern-only if disable-legacy=on.
    auto transitional = pci_find_device(virtio_vendor, virtio_net_transitional);
    auto device = transitional.is_error()
        ? KMUST(find_or_explain(virtio_vendor, virtio_net_modern, "-device virtio-net-pci"))
        : transitional.value();
    auto msix = KMUST(pci_msix_map(device));
    console_print("    # virtio-net at %02x:%02x.%u: %u MSI-X entries in BAR%u+%#x, PBA BAR%u+%#x\n",
        device.address.bus, device.address.device, device.address.function, msix.capability.table_size,
        msix.capability.table_bir, msix.capability.table_offset, msix.capability.pba_bir, msix.capability.pba_offset);
    console_print("    # MSI-X delivery needs a configured virtqueue: the virtio-net driver's test\n");
    KEXPECT(msix.capability.table_size >= 1);
    KEXPECT(msix.table_bar.is_memory());

    pci_msix_set_control(device, msix, true, true);
    auto config = device.config();
    uint16_t control = config.read16(msix.capability.control_offset());
    KEXPECT((control & msix_control::enable) != 0);
    KEXPECT((control & msix_control::function_mask) != 0);
    size_t cpus = arch::cpu_count();
    for (uint16_t entry = 0; entry < msix.table.size(); ++entry) {
        uint32_t apic_id = arch::cpu_at(entry % cpus).apic_id;
        auto vector = static_cast<uint8_t>(arch::vector::first_device + entry);
        auto message = KMUST(arch::compose_msi_message(apic_id, vector));
        KMUST(msix.table.program(entry, message));
        auto read = KMUST(msix.table.read(entry));
        KEXPECT_EQ(read.address, message.address);
        KEXPECT_EQ(read.data, message.data);
        KEXPECT(read.masked);
    }
    KEXPECT(msix.table.program(msix.table.size(), { 0xfee0'0000, 0xd0 }).is_error());
    // Leave it as found: off, every entry masked.
    pci_msix_set_control(device, msix, false, false);
    KEXPECT_EQ(config.read16(msix.capability.control_offset()) & msix_control::enable, 0);
}

} // namespace

SELFTEST_SUITE(pci_msi, CONFIG_PCI_MSI_SELFTEST, SELFTEST_CASE(configuration_space_and_scan),
    SELFTEST_CASE(edu_bar_sized_and_registers_reachable), SELFTEST_CASE(edu_msi_delivered_to_each_cpu),
    SELFTEST_CASE(msi_vectors_come_from_the_device_range),
    SELFTEST_CASE(virtio_net_msix_table_programmed_and_read_back));

} // namespace tessera
