// Selftests of the virtio-net driver on two NICs cabled to each other.
// tools/check.py's selftest boots give the VM two modern virtio-net
// functions (disable-legacy=on, host_mtu=9000) whose netdevs are the two
// ends of one `-netdev dgram` unix-socket pair, so every frame NIC0 sends
// arrives on NIC1 and back; one scenario boots them with vectors=0 (no
// MSI-X) so the same cases run over INTx.
//
// Test frames carry the local experimental EtherType 0x88b5, a magic, a
// sequence number and a pattern derived from both; a tap on the receiver
// (VirtioNetDevice::set_selftest_tap) checks each byte and the order, and
// lets every other frame (the stack's ARP, say) through to deliver().

#include <drivers/virtio/net/virtio_net_device.h>
#include <drivers/virtio/net/virtio_net_probe.h>
#include <kernel/boot/boot.h>
#include <kernel/console/console.h>
#include <kernel/sched/scheduler.h>
#include <kernel/sched/thread.h>
#include <kernel/selftest/selftest.h>
#include <kernel/time/clock.h>

namespace tessera {

namespace {

constexpr uint16_t test_ethertype = 0x88b5;
constexpr uint32_t test_magic = 0x5453'564e; // "TSVN"
constexpr size_t header_bytes = 14 + 4 + 4 + 2; // Ethernet, magic, sequence, size
constexpr size_t max_frame = 14 + 9216;
constexpr uint64_t arrival_timeout_ns = 20 * ns_per_second;

uint8_t pattern(uint32_t sequence, size_t index) { return static_cast<uint8_t>(sequence * 31 + index * 7 + 1); }

void put32(uint8_t* at, uint32_t value)
{
    for (int i = 0; i < 4; ++i)
        at[i] = static_cast<uint8_t>(value >> (24 - 8 * i));
}
uint32_t get32(const uint8_t* at) { return uint32_t { at[0] } << 24 | at[1] << 16 | at[2] << 8 | at[3]; }

// The frame `sequence` of `size` bytes from `source` to `destination`.
void build_frame(uint8_t* out, size_t size, MacAddress destination, MacAddress source, uint32_t sequence)
{
    for (size_t i = 0; i < 6; ++i) {
        out[i] = destination.octets[i];
        out[6 + i] = source.octets[i];
    }
    out[12] = test_ethertype >> 8;
    out[13] = test_ethertype & 0xff;
    put32(out + 14, test_magic);
    put32(out + 18, sequence);
    out[22] = static_cast<uint8_t>(size >> 8);
    out[23] = static_cast<uint8_t>(size);
    for (size_t i = header_bytes; i < size; ++i)
        out[i] = pattern(sequence, i);
}

// What the receiving tap saw. Written by the receiver's worker, read by the case.
struct Capture {
    MacAddress destination;
    MacAddress source;
    uint32_t next_sequence { 0 };
    kstd::atomic<uint32_t> received { 0 };
    kstd::atomic<uint32_t> mismatched { 0 };
    kstd::atomic<uint32_t> out_of_order { 0 };
    uint8_t expected[max_frame];
};

bool tap(void* context, Span<const uint8_t> frame)
{
    auto& capture = *static_cast<Capture*>(context);
    if (frame.size() < header_bytes || frame[12] != test_ethertype >> 8 || frame[13] != (test_ethertype & 0xff))
        return false;
    if (get32(frame.data() + 14) != test_magic)
        return false;
    uint32_t sequence = get32(frame.data() + 18);
    size_t size = size_t { frame[22] } << 8 | frame[23];
    if (sequence != capture.next_sequence)
        capture.out_of_order.fetch_add(1, kstd::memory_order_relaxed);
    capture.next_sequence = sequence + 1;
    bool same = size == frame.size() && size <= max_frame;
    if (same) {
        build_frame(capture.expected, size, capture.destination, capture.source, sequence);
        for (size_t i = 0; i < size && same; ++i)
            same = capture.expected[i] == frame[i];
    }
    if (!same)
        capture.mismatched.fetch_add(1, kstd::memory_order_relaxed);
    capture.received.fetch_add(1, kstd::memory_order_release);
    return true;
}

struct Pair {
    VirtioNetDevice* nic0;
    VirtioNetDevice* nic1;
};

Pair the_pair()
{
    Pair pair { virtio_net_device_at(0), virtio_net_device_at(1) };
    if (pair.nic0 == nullptr || pair.nic1 == nullptr)
        console_print(
            "    # needs two cabled virtio-net NICs: see tools/check.py (-netdev dgram, disable-legacy=on)\n");
    return pair;
}

bool wait_received(const Capture& capture, uint32_t target)
{
    uint64_t deadline = uptime_ns() + arrival_timeout_ns;
    while (capture.received.load(kstd::memory_order_acquire) < target) {
        if (uptime_ns() > deadline)
            return false;
        sleep_ms(1);
    }
    return true;
}

// Sends `count` frames of `size` bytes from `from` to `to`, retrying a full
// ring, and returns what the receiver saw. The Capture is large: static.
Capture s_capture;
uint8_t s_frame[max_frame];

Capture& send_and_capture(VirtioNetDevice& from, VirtioNetDevice& to, size_t size, uint32_t count)
{
    Capture& capture = s_capture;
    capture.destination = to.mac();
    capture.source = from.mac();
    capture.next_sequence = 0;
    capture.received.store(0);
    capture.mismatched.store(0);
    capture.out_of_order.store(0);
    to.set_selftest_tap(tap, &capture);
    uint64_t dropped_before = to.counters().rx_dropped.load();
    uint32_t retries = 0;
    for (uint32_t sequence = 0; sequence < count; ++sequence) {
        build_frame(s_frame, size, to.mac(), from.mac(), sequence);
        for (;;) {
            auto sent = from.transmit(Span<const uint8_t>(s_frame, size));
            if (!sent.is_error())
                break;
            KEXPECT(sent.error().code() == Errno::AGAIN);
            if (sent.error().code() != Errno::AGAIN)
                break;
            // The device drains the ring asynchronously: give it a tick.
            ++retries;
            sleep_ms(1);
        }
    }
    KEXPECT(wait_received(capture, count));
    to.set_selftest_tap(nullptr, nullptr);
    if (retries != 0)
        console_print("    # %u times the ring was full and the sender waited\n", retries);
    KEXPECT_EQ(to.counters().rx_dropped.load() - dropped_before, 0u);
    return capture;
}

void check_both_ways(size_t size)
{
    auto pair = the_pair();
    KEXPECT(pair.nic0 != nullptr && pair.nic1 != nullptr);
    if (pair.nic0 == nullptr || pair.nic1 == nullptr)
        return;
    VirtioNetDevice* ends[2][2] = { { pair.nic0, pair.nic1 }, { pair.nic1, pair.nic0 } };
    for (auto& way : ends) {
        auto& capture = send_and_capture(*way[0], *way[1], size, 3);
        KEXPECT_EQ(capture.received.load(), 3u);
        KEXPECT_EQ(capture.mismatched.load(), 0u);
        KEXPECT_EQ(capture.out_of_order.load(), 0u);
    }
}

void two_nics_with_distinct_macs()
{
    auto pair = the_pair();
    KEXPECT(pair.nic0 != nullptr && pair.nic1 != nullptr);
    if (pair.nic0 == nullptr || pair.nic1 == nullptr)
        return;
    KEXPECT(!(pair.nic0->mac() == pair.nic1->mac()));
    KEXPECT(net_device_count() >= 2);
    console_print("    # %s mtu %u, %s mtu %u, %s\n", pair.nic0->name(), pair.nic0->mtu(), pair.nic1->name(),
        pair.nic1->mtu(), pair.nic0->uses_msix() ? "MSI-X" : "INTx");
}

void minimum_frames_cross_byte_exact() { check_both_ways(60); }

void full_frames_cross_byte_exact() { check_both_ways(1514); }

void jumbo_frames_cross_byte_exact()
{
    auto pair = the_pair();
    KSKIP_IF(pair.nic0 != nullptr && pair.nic1 != nullptr && (pair.nic0->mtu() < 9000 || pair.nic1->mtu() < 9000),
        "MTU below 9000 (no host_mtu=9000)");
    check_both_ways(9014);
}

void oversize_frame_is_refused()
{
    auto pair = the_pair();
    KEXPECT(pair.nic0 != nullptr);
    if (pair.nic0 == nullptr)
        return;
    uint64_t dropped = pair.nic0->counters().tx_dropped.load();
    size_t size = 14 + pair.nic0->mtu() + 1;
    auto sent = pair.nic0->transmit(Span<const uint8_t>(s_frame, size));
    KEXPECT(sent.is_error() && sent.error().code() == Errno::MSGSIZE);
    KEXPECT_EQ(pair.nic0->counters().tx_dropped.load(), dropped + 1);
}

void burst_of_1000_arrives_in_order()
{
    auto pair = the_pair();
    KEXPECT(pair.nic0 != nullptr && pair.nic1 != nullptr);
    if (pair.nic0 == nullptr || pair.nic1 == nullptr)
        return;
    uint64_t start = uptime_ns();
    auto& capture = send_and_capture(*pair.nic0, *pair.nic1, 1514, 1000);
    console_print("    # 1000 frames in %llu ms\n", static_cast<unsigned long long>((uptime_ns() - start) / 1000000));
    KEXPECT_EQ(capture.received.load(), 1000u);
    KEXPECT_EQ(capture.mismatched.load(), 0u);
    KEXPECT_EQ(capture.out_of_order.load(), 0u);
}

void interrupts_were_counted()
{
    auto pair = the_pair();
    KEXPECT(pair.nic0 != nullptr && pair.nic1 != nullptr);
    if (pair.nic0 == nullptr || pair.nic1 == nullptr)
        return;
    for (auto* nic : { pair.nic0, pair.nic1 }) {
        auto& driver = nic->driver_counters();
        console_print("    # %s interrupts: %s rx %llu tx %llu intx %llu, total %llu\n", nic->name(),
            nic->uses_msix() ? "MSI-X" : "INTx", static_cast<unsigned long long>(driver.rx_interrupts.load()),
            static_cast<unsigned long long>(driver.tx_interrupts.load()),
            static_cast<unsigned long long>(driver.intx_interrupts.load()),
            static_cast<unsigned long long>(nic->counters().interrupts.load()));
        if (nic->uses_msix()) {
            KEXPECT(driver.rx_interrupts.load() > 0);
            KEXPECT(driver.tx_interrupts.load() > 0);
            KEXPECT_EQ(driver.intx_interrupts.load(), 0u);
        } else {
            KEXPECT(driver.intx_interrupts.load() > 0);
            KEXPECT_EQ(driver.rx_interrupts.load() + driver.tx_interrupts.load(), 0u);
        }
        KEXPECT(nic->counters().rx_frames.load() > 0 && nic->counters().tx_frames.load() > 0);
    }
}

// The checks above must be able to fail: with one byte of each transmitted
// frame flipped (the driver's planted fault), the receiver's comparison must
// see every frame arrive and every one differ.
void corrupted_transmit_is_caught()
{
    auto pair = the_pair();
    KEXPECT(pair.nic0 != nullptr && pair.nic1 != nullptr);
    if (pair.nic0 == nullptr || pair.nic1 == nullptr)
        return;
    pair.nic0->set_corrupt_transmit(true);
    auto& capture = send_and_capture(*pair.nic0, *pair.nic1, 60, 3);
    pair.nic0->set_corrupt_transmit(node_config().inject == FaultInjection::VirtioCorruptTx);
    KEXPECT_EQ(capture.received.load(), 3u);
    KEXPECT_EQ(capture.mismatched.load(), 3u);
}

} // namespace

SELFTEST_SUITE(virtio_net, CONFIG_VIRTIO_NET_SELFTEST, SELFTEST_CASE(two_nics_with_distinct_macs),
    SELFTEST_CASE(minimum_frames_cross_byte_exact), SELFTEST_CASE(full_frames_cross_byte_exact),
    SELFTEST_CASE(jumbo_frames_cross_byte_exact), SELFTEST_CASE(oversize_frame_is_refused),
    SELFTEST_CASE(burst_of_1000_arrives_in_order), SELFTEST_CASE(interrupts_were_counted),
    SELFTEST_CASE(corrupted_transmit_is_caught));

} // namespace tessera
