#pragma once
// A node's run-time identity and boot settings (docs/boot-and-configuration.md). One ISO
// serves every node of a cluster: the kernel applies the multiboot2 command
// line first and the fw_cfg file `opt/tessera/config` second, and a malformed
// setting stops the boot with a diagnostic naming the key.
//
// Text syntax: whitespace-separated `key=value` tokens; `#` starts a comment
// that runs to the end of the line (also in the middle of a token). Tokens
// whose key does not start with `tessera.` are ignored, because the command
// line also carries the loader's own words (e.g. the kernel path).

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>
#include <kernel/lib/log_level.h>
#include <kernel/lib/string_view.h>

namespace tessera {

// Roles are bits so that one node can run several managers.
enum class Role : uint8_t {
    Processor = 1 << 0,
    Memory = 1 << 1,
    Storage = 1 << 2,
    Grm = 1 << 3, // Global resource manager.
};
constexpr uint8_t all_roles = 0x0f;

enum class BootMode : uint8_t {
    Shell, // Interactive kernel shell on the console.
    Ready, // Start the node's managers (the monitors init level) and serve; never exits.
    Selftest, // Run the in-kernel KTAP selftests, then exit QEMU.
    BootBench, // Boot-time benchmark: print `TESSERA READY tsc=... tsc_hz=...` and exit.
};

// Test-only: makes the selftest run misbehave on purpose so that the QEMU
// runner can be shown to catch each failure kind.
enum class FaultInjection : uint8_t {
    None,
    Fault, // Take a CPU exception (panic banner).
    Fail, // Report a failing test case.
    Hang, // Stop producing output (silence timeout).
    StackOverflow, // Overflow a kernel stack into its guard page (double fault on its IST stack).
    FailExpect, // A real KEXPECT fails in the case.
    FailEq, // A real KEXPECT_EQ fails in the case.
    FailMust, // A real KMUST sees an error.
    FailThread, // A KEXPECT fails in a helper thread after the case function returned.
    FailLateThread, // A plain thread fails after its case ended (a harness error).
    StuckThread, // A helper thread outlives its case's grace period.
    // CPU 1 panics while CPU 0 runs to the success exit (kernel/platform/selftest_ending.cpp,
    // and kernel/selftest/panic_race.cpp between the success line and the exit).
    PanicRace,
    MutexUnderSpinlock, // A mutex taken while a spinlock is held (kernel/locking/sleep_checks.h).
    ScheduleUnderSpinlock, // schedule() entered while a spinlock is held.
    MutexInterruptsOff, // A mutex taken with interrupts disabled.
    ConsoleRecursion, // Print while holding the console lock (must panic, not hang).
    // A timer callback fails while the interrupted case thread holds a capture.
    FailIrqInCapture,
    SkipFromIrq, // A timer callback calls selftest_skip() while the case runs.
    VirtioCorruptTx, // The first virtio-net NIC flips a byte of every frame it sends.
};

struct Ipv4Address {
    uint8_t octets[4];

    constexpr bool operator==(const Ipv4Address&) const = default;
};

constexpr size_t selftest_filter_capacity = 32; // 31 characters and a NUL.
constexpr uint32_t rping_max_count = 1000000;

// `tessera.rdma.selftest`: a boot-time RDMA check for cluster tests
// (net/rdma/rdma_selftest.cpp): serve one connection, or make one and
// check SEND/RECV, WRITE and READ, printing `rdma: PASS ...`/`rdma: FAIL ...`.
enum class RdmaSelftestRole : uint8_t {
    None,
    Listen, // listen:PORT
    Connect, // connect:A.B.C.D:PORT
};

struct RdmaSelftestConfig {
    RdmaSelftestRole role;
    Ipv4Address peer; // Connect
    uint16_t port;
};

// `tessera.peers=A.B.C.D,...`: the other nodes of the cluster, for RPC over
// RoCE (net/rpc/rpc_service.h). `tessera.rpc.selftest=N`: ping every peer N
// times at boot and print `rpc: PASS ...` / `rpc: FAIL ...`.
constexpr size_t max_peers = 8;
constexpr uint32_t max_rpc_selftest_calls = 1000000;

// `tessera.rping`, `tessera.rping.count`, `tessera.rping.size`: rping's
// server or client side, wire-compatible with rdma-core's rping
// (net/rdma/rping/README.md), for interop runs beside a Linux peer.
enum class RpingRole : uint8_t {
    None,
    Server, // server:PORT
    Client, // client:A.B.C.D:PORT
};

struct RpingConfig {
    RpingRole role;
    Ipv4Address peer; // Client
    uint16_t port;
    uint32_t count; // 0: not given (client: 100; server: any number)
    uint32_t size; // 0: not given (client: 64; server: any size up to 65535)
};

struct NodeConfig {
    uint8_t roles;
    uint16_t node_id;
    Ipv4Address ip;
    uint8_t prefix_length;
    // True once `tessera.ip` was given: the default address is only a
    // placeholder, and the network stack stays down without a real one.
    bool ip_configured;
    Ipv4Address grm;
    BootMode mode;
    LogLevel log_level;
    FaultInjection inject;
    // `all` or the name of one selftest suite; always NUL-terminated.
    char selftest_filter[selftest_filter_capacity];
    RdmaSelftestConfig rdma_selftest;
    Ipv4Address peers[max_peers];
    uint8_t peer_count;
    uint32_t rpc_selftest_calls; // 0: no RPC selftest
    RpingConfig rping;

    constexpr bool has_role(Role role) const { return (roles & static_cast<uint8_t>(role)) != 0; }
};

// What applies before any text is read: every role, node 1, 192.0.2.1/24,
// GRM 192.0.2.1, shell, info, no fault injection, all selftests.
NodeConfig default_node_config();

// Why apply_config() failed. Both fields are NUL-terminated, printable ASCII
// and truncated to fit.
struct ConfigDiagnostic {
    char key[64];
    char reason[128];
};

// Applies every `tessera.*` setting in `text` in order (a later one overrides
// an earlier one). Atomic: on error `config` is untouched and `diagnostic`
// names the key and the reason; on success `diagnostic` is emptied.
ErrorOr<void> apply_config(NodeConfig& config, StringView text, ConfigDiagnostic& diagnostic);

// One-line summary, e.g.
// `roles=processor,memory node=3 ip=192.0.2.13/24 grm=192.0.2.1 mode=shell`,
// followed by `loglevel=`, `inject=` and `selftest=` only when they matter
// (not info, not none, mode selftest). Returns the full length as format().
size_t format_node_config(const NodeConfig& config, char* buffer, size_t size);

// The name used in the configuration text, e.g. "processor".
const char* role_name(Role role);
const char* boot_mode_name(BootMode mode);
const char* log_level_name(LogLevel level);
const char* fault_injection_name(FaultInjection inject);

} // namespace tessera
