#include <kernel/config/lib/node_config.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>

using namespace tessera;

namespace {

struct Applied {
    bool ok;
    NodeConfig config;
    ConfigDiagnostic diagnostic;
    Errno code;
};

Applied apply(std::string const& text, NodeConfig start = default_node_config())
{
    Applied result {};
    result.config = start;
    std::memset(&result.diagnostic, 'X', sizeof(result.diagnostic));
    auto outcome = apply_config(result.config, StringView(text.data(), text.size()), result.diagnostic);
    result.ok = !outcome.is_error();
    result.code = result.ok ? Errno {} : outcome.error().code();
    return result;
}

bool same(NodeConfig const& a, NodeConfig const& b) { return std::memcmp(&a, &b, sizeof(NodeConfig)) == 0; }

std::string summary(NodeConfig const& config)
{
    char buffer[256];
    format_node_config(config, buffer, sizeof(buffer));
    return buffer;
}

// Applies `text` to the defaults, expects failure naming `key`, and checks
// that the configuration was left untouched.
void expect_rejected(std::string const& text, char const* key, char const* reason_part = "")
{
    auto defaults = default_node_config();
    auto result = apply(text, defaults);
    EXPECT_FALSE(result.ok) << text;
    EXPECT_EQ(result.code, Errno::INVAL) << text;
    EXPECT_STREQ(result.diagnostic.key, key) << text;
    EXPECT_NE(std::string(result.diagnostic.reason).find(reason_part), std::string::npos)
        << text << " -> " << result.diagnostic.reason;
    EXPECT_TRUE(same(result.config, defaults)) << text;
}

} // namespace

TEST(NodeConfig, Defaults)
{
    auto config = default_node_config();
    EXPECT_EQ(config.roles, all_roles);
    EXPECT_TRUE(config.has_role(Role::Processor));
    EXPECT_TRUE(config.has_role(Role::Grm));
    EXPECT_EQ(config.node_id, 1);
    EXPECT_EQ(config.ip, (Ipv4Address { { 192, 0, 2, 1 } }));
    EXPECT_EQ(config.prefix_length, 24);
    EXPECT_FALSE(config.ip_configured); // A placeholder: the network stack stays down.
    EXPECT_EQ(config.grm, (Ipv4Address { { 192, 0, 2, 1 } }));
    EXPECT_EQ(config.mode, BootMode::Shell);
    EXPECT_EQ(config.log_level, LogLevel::Info);
    EXPECT_EQ(config.inject, FaultInjection::None);
    EXPECT_STREQ(config.selftest_filter, "all");
    EXPECT_EQ(summary(config), "roles=processor,memory,storage,grm node=1 ip=192.0.2.1/24 grm=192.0.2.1 mode=shell");
}

TEST(NodeConfig, AppliesDesignExample)
{
    auto result = apply("/boot/tessera.elf tessera.roles=processor,memory tessera.node=3 tessera.ip=192.0.2.13/24 "
                        "tessera.grm=192.0.2.1");
    ASSERT_TRUE(result.ok) << result.diagnostic.key << ": " << result.diagnostic.reason;
    EXPECT_EQ(summary(result.config), "roles=processor,memory node=3 ip=192.0.2.13/24 grm=192.0.2.1 mode=shell");
    EXPECT_STREQ(result.diagnostic.key, "");
    EXPECT_STREQ(result.diagnostic.reason, "");
}

TEST(NodeConfig, EverySetting)
{
    auto result = apply("tessera.roles=grm,storage\ttessera.node=65535\r\ntessera.ip=10.0.0.255/0 "
                        "tessera.grm=0.0.0.0 tessera.mode=selftest tessera.loglevel=debug tessera.inject=hang "
                        "tessera.selftest=memory_buddy_2");
    ASSERT_TRUE(result.ok) << result.diagnostic.key << ": " << result.diagnostic.reason;
    auto const& config = result.config;
    EXPECT_EQ(config.roles, static_cast<uint8_t>(Role::Grm) | static_cast<uint8_t>(Role::Storage));
    EXPECT_EQ(config.node_id, 65535);
    EXPECT_EQ(config.ip, (Ipv4Address { { 10, 0, 0, 255 } }));
    EXPECT_EQ(config.prefix_length, 0);
    EXPECT_EQ(config.grm, (Ipv4Address { { 0, 0, 0, 0 } }));
    EXPECT_EQ(config.mode, BootMode::Selftest);
    EXPECT_EQ(config.log_level, LogLevel::Debug);
    EXPECT_EQ(config.inject, FaultInjection::Hang);
    EXPECT_STREQ(config.selftest_filter, "memory_buddy_2");
    EXPECT_EQ(summary(config),
        "roles=storage,grm node=65535 ip=10.0.0.255/0 grm=0.0.0.0 mode=selftest "
        "loglevel=debug inject=hang selftest=memory_buddy_2");
}

TEST(NodeConfig, EnumValuesAndNames)
{
    std::pair<char const*, BootMode> modes[] = { { "shell", BootMode::Shell }, { "ready", BootMode::Ready },
        { "selftest", BootMode::Selftest }, { "boot-bench", BootMode::BootBench } };
    for (auto [name, mode] : modes) {
        auto result = apply(std::string("tessera.mode=") + name);
        ASSERT_TRUE(result.ok);
        EXPECT_EQ(result.config.mode, mode);
        EXPECT_STREQ(boot_mode_name(mode), name);
    }
    std::pair<char const*, LogLevel> levels[] = { { "debug", LogLevel::Debug }, { "info", LogLevel::Info },
        { "warn", LogLevel::Warn }, { "error", LogLevel::Error } };
    for (auto [name, level] : levels) {
        auto result = apply(std::string("tessera.loglevel=") + name);
        ASSERT_TRUE(result.ok);
        EXPECT_EQ(result.config.log_level, level);
        EXPECT_STREQ(log_level_name(level), name);
    }
    std::pair<char const*, FaultInjection> injects[] = { { "none", FaultInjection::None },
        { "fault", FaultInjection::Fault }, { "fail", FaultInjection::Fail }, { "hang", FaultInjection::Hang },
        { "overflow", FaultInjection::StackOverflow }, { "fail-expect", FaultInjection::FailExpect },
        { "fail-eq", FaultInjection::FailEq }, { "fail-must", FaultInjection::FailMust },
        { "fail-thread", FaultInjection::FailThread }, { "fail-late-thread", FaultInjection::FailLateThread },
        { "stuck-thread", FaultInjection::StuckThread }, { "panic-race", FaultInjection::PanicRace },
        { "mutex-under-spinlock", FaultInjection::MutexUnderSpinlock },
        { "schedule-under-spinlock", FaultInjection::ScheduleUnderSpinlock },
        { "mutex-irqs-off", FaultInjection::MutexInterruptsOff },
        { "console-recursion", FaultInjection::ConsoleRecursion },
        { "fail-irq-in-capture", FaultInjection::FailIrqInCapture }, { "skip-from-irq", FaultInjection::SkipFromIrq },
        { "virtio-corrupt-tx", FaultInjection::VirtioCorruptTx } };
    for (auto [name, inject] : injects) {
        auto result = apply(std::string("tessera.inject=") + name);
        ASSERT_TRUE(result.ok);
        EXPECT_EQ(result.config.inject, inject);
        EXPECT_STREQ(fault_injection_name(inject), name);
    }
    EXPECT_STREQ(role_name(Role::Processor), "processor");
    EXPECT_STREQ(role_name(Role::Memory), "memory");
    EXPECT_STREQ(role_name(Role::Storage), "storage");
    EXPECT_STREQ(role_name(Role::Grm), "grm");
    EXPECT_STREQ(role_name(static_cast<Role>(0x30)), "?");
    EXPECT_STREQ(boot_mode_name(static_cast<BootMode>(9)), "?");
    EXPECT_STREQ(log_level_name(static_cast<LogLevel>(9)), "?");
    EXPECT_STREQ(fault_injection_name(static_cast<FaultInjection>(19)), "?");
}

TEST(NodeConfig, LaterSettingsOverrideEarlierAndCallsLayer)
{
    auto config = default_node_config();
    ConfigDiagnostic diagnostic;
    // The command line first, then the fw_cfg file.
    ASSERT_FALSE(apply_config(config, "tessera.node=3 tessera.mode=ready tessera.node=4", diagnostic).is_error());
    EXPECT_EQ(config.node_id, 4);
    ASSERT_FALSE(apply_config(config, "# fw_cfg file\ntessera.node=9\n", diagnostic).is_error());
    EXPECT_EQ(config.node_id, 9);
    EXPECT_EQ(config.mode, BootMode::Ready);
}

TEST(NodeConfig, CommentsAndWhitespace)
{
    auto result = apply("# a whole-line comment tessera.node=5\n"
                        "  tessera.node=6   # trailing comment tessera.node=7\r\n"
                        "tessera.mode=ready# glued comment\n"
                        "#\n\t\t\r\n   ");
    ASSERT_TRUE(result.ok) << result.diagnostic.reason;
    EXPECT_EQ(result.config.node_id, 6);
    EXPECT_EQ(result.config.mode, BootMode::Ready);
    // Comments end at LF only, not CR.
    EXPECT_EQ(apply("# comment\rtessera.node=7").config.node_id, 1);
}

TEST(NodeConfig, EmptyTextChangesNothing)
{
    EXPECT_TRUE(apply("").ok);
    EXPECT_TRUE(same(apply("").config, default_node_config()));
    EXPECT_TRUE(same(apply(" \t\r\n# nothing\n").config, default_node_config()));
    auto config = default_node_config();
    ConfigDiagnostic diagnostic;
    EXPECT_FALSE(apply_config(config, StringView(), diagnostic).is_error());
}

TEST(NodeConfig, IgnoresForeignTokens)
{
    auto result = apply("/boot/tessera.elf quiet console=ttyS0 =x tessera node=7 TESSERA.node=x tessera_node=x "
                        "xtessera.node=9 tessera.node=2");
    ASSERT_TRUE(result.ok) << result.diagnostic.key << ": " << result.diagnostic.reason;
    EXPECT_EQ(result.config.node_id, 2);
}

TEST(NodeConfig, NodeNumbers)
{
    EXPECT_EQ(apply("tessera.node=0").config.node_id, 0);
    EXPECT_EQ(apply("tessera.node=00042").config.node_id, 42);
    EXPECT_EQ(apply("tessera.node=000000000000000000000065535").config.node_id, 65535);

    auto result = apply("tessera.node=70000");
    EXPECT_FALSE(result.ok);
    EXPECT_STREQ(result.diagnostic.key, "tessera.node");
    EXPECT_STREQ(result.diagnostic.reason, "\"70000\" is not a number in 0..65535");

    for (char const* bad : { "65536", "99999999999999999999999", "4294967296", "4294967297", "-1", "+1", " 1", "1x",
             "x1", "0x10", "1.0", "1,2", "１" }) {
        expect_rejected(std::string("tessera.node=") + bad, "tessera.node");
    }
}

TEST(NodeConfig, Roles)
{
    EXPECT_EQ(apply("tessera.roles=memory").config.roles, static_cast<uint8_t>(Role::Memory));
    EXPECT_EQ(apply("tessera.roles=grm,processor,storage,memory").config.roles, all_roles);

    expect_rejected("tessera.roles=processor,processor", "tessera.roles", "\"processor\" is listed twice");
    expect_rejected("tessera.roles=processor,,memory", "tessera.roles", "has an empty role");
    expect_rejected("tessera.roles=,memory", "tessera.roles", "has an empty role");
    expect_rejected("tessera.roles=memory,", "tessera.roles", "has an empty role");
    expect_rejected("tessera.roles=,", "tessera.roles", "has an empty role");
    expect_rejected("tessera.roles=gpu", "tessera.roles", "\"gpu\" is not a role");
    expect_rejected("tessera.roles=Memory", "tessera.roles", "is not a role");
    expect_rejected("tessera.roles=memory;storage", "tessera.roles", "is not a role");
    expect_rejected("tessera.roles=", "tessera.roles", "has an empty value");
}

TEST(NodeConfig, IpAddresses)
{
    auto result = apply("tessera.ip=255.255.255.255/32 tessera.grm=1.2.3.4");
    ASSERT_TRUE(result.ok);
    EXPECT_EQ(result.config.ip, (Ipv4Address { { 255, 255, 255, 255 } }));
    EXPECT_EQ(result.config.prefix_length, 32);
    EXPECT_TRUE(result.config.ip_configured);
    EXPECT_EQ(result.config.grm, (Ipv4Address { { 1, 2, 3, 4 } }));
    EXPECT_FALSE(apply("tessera.grm=1.2.3.4").config.ip_configured);

    expect_rejected("tessera.ip=192.0.2.13", "tessera.ip", "has no /prefix");
    for (char const* bad : { "192.0.2.13/33", "192.0.2.13/", "192.0.2.13/-1", "192.0.2.13/024", "192.0.2.256/24",
             "192.0.2/24", "192.0.2.1.5/24", "192.0.02.1/24", "192.0..1/24", ".0.2.1/24", "192.0.2./24",
             "192.0.2.1/24/24", "1922.0.2.1/24", "0x1.0.2.1/24", "/24", "a.b.c.d/24", "192.0.2.1000000000000/24",
             "192.0.2.13/4294967296" }) {
        expect_rejected(std::string("tessera.ip=") + bad, "tessera.ip", "is not an IPv4 address with a /prefix");
    }
    for (char const* bad : { "192.0.2.1/24", "192.0.2", "192.0.2.1.", "256.0.0.0", "01.2.3.4", "1.2.3.-4", "1..3.4",
             "....", "1.2.3.4.5" }) {
        expect_rejected(std::string("tessera.grm=") + bad, "tessera.grm", "is not a dotted IPv4 address");
    }
}

TEST(NodeConfig, EnumsRejectUnknownWords)
{
    expect_rejected("tessera.mode=Shell", "tessera.mode", "\"Shell\" is not a mode");
    expect_rejected("tessera.mode=shells", "tessera.mode", "is not a mode");
    expect_rejected("tessera.loglevel=trace", "tessera.loglevel", "is not a log level");
    expect_rejected("tessera.inject=crash", "tessera.inject", "is not a fault injection");
}

TEST(NodeConfig, SelftestFilter)
{
    EXPECT_STREQ(apply("tessera.selftest=all").config.selftest_filter, "all");
    std::string longest(31, 'a');
    EXPECT_EQ(std::string(apply("tessera.selftest=" + longest).config.selftest_filter), longest);
    // A shorter filter after a longer one leaves no stale tail.
    EXPECT_STREQ(apply("tessera.selftest=abcdef tessera.selftest=x").config.selftest_filter, "x");

    expect_rejected("tessera.selftest=" + std::string(32, 'a'), "tessera.selftest", "is not `all` or a suite name");
    for (char const* bad : { "All", "mem-ory", "mem.ory", "a,b", "a*", "a/b" })
        expect_rejected(std::string("tessera.selftest=") + bad, "tessera.selftest", "is not `all` or a suite name");
}

TEST(NodeConfig, StructuralErrors)
{
    expect_rejected("tessera.node", "tessera.node", "has no '='");
    expect_rejected("tessera.debug", "tessera.debug", "has no '='");
    expect_rejected("tessera.nodes=3", "tessera.nodes", "is not a known tessera.* setting");
    expect_rejected("tessera.=3", "tessera.", "is not a known");
    expect_rejected("tessera.Node=3", "tessera.Node", "is not a known");
    expect_rejected("tessera.node=", "tessera.node", "has an empty value");
    expect_rejected("tessera.mode= ready", "tessera.mode", "has an empty value");
    // Near misses of the multi-word names are refused too.
    expect_rejected("tessera.inject=fail_expect", "tessera.inject", "is not a fault injection");
    expect_rejected("tessera.inject=fail-", "tessera.inject", "is not a fault injection");
    expect_rejected("tessera.inject=panic-race2", "tessera.inject", "is not a fault injection");
    // `ready` serves and `boot-bench` exits: they are two modes, not spellings of one.
    expect_rejected("tessera.mode=bootbench", "tessera.mode", "is not a mode (shell, ready, selftest, boot-bench)");
    EXPECT_NE(BootMode::Ready, BootMode::BootBench);
    expect_rejected("tessera.node=#3", "tessera.node", "has an empty value");
    expect_rejected("tessera.node=3=4", "tessera.node", "\"3=4\" is not a number");
}

TEST(NodeConfig, ValueLengthLimit)
{
    // 255 bytes is the limit: such a value is judged by its setting...
    auto at_limit = apply("tessera.grm=" + std::string(255, '1'));
    EXPECT_FALSE(at_limit.ok);
    EXPECT_NE(std::string(at_limit.diagnostic.reason).find("is not a dotted IPv4"), std::string::npos);
    EXPECT_NE(std::string(at_limit.diagnostic.reason).find("...\""), std::string::npos) << "long value shortened";
    EXPECT_LT(std::strlen(at_limit.diagnostic.reason), sizeof(ConfigDiagnostic::reason));
    // ...one more byte is refused before parsing.
    expect_rejected("tessera.grm=" + std::string(256, '1'), "tessera.grm", "value is 256 bytes long (at most 255)");
    expect_rejected("tessera.node=" + std::string(100000, '0') + "1", "tessera.node", "bytes long");
    // Foreign tokens may be any length.
    EXPECT_TRUE(apply("foo=" + std::string(5000, 'x')).ok);
}

TEST(NodeConfig, LongUnknownKeyIsTruncatedInDiagnostic)
{
    std::string key = "tessera." + std::string(200, 'k');
    auto result = apply(key + "=1");
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(std::strlen(result.diagnostic.key), sizeof(ConfigDiagnostic::key) - 1);
    EXPECT_EQ(std::string(result.diagnostic.key), key.substr(0, sizeof(ConfigDiagnostic::key) - 1));
}

TEST(NodeConfig, UnprintableBytes)
{
    expect_rejected(std::string("tessera.node=3\x01"), "tessera.node", "byte 0x01 at offset 14 is not printable");
    expect_rejected(std::string("tessera.node=3\x7f"), "tessera.node", "byte 0x7f");
    expect_rejected(std::string("tessera.node=\xc3\xa9"), "tessera.node", "byte 0xc3 at offset 13");
    expect_rejected(std::string("tessera.node=3\v"), "tessera.node", "byte 0x0b"); // \v is not a separator.
    expect_rejected(std::string("tessera.node=3\f"), "tessera.node", "byte 0x0c");
    // In a foreign token too, and in a comment; the key shows '?' for the byte.
    expect_rejected(std::string("foo\x1b[31m=1"), "foo?[31m", "byte 0x1b at offset 3");
    expect_rejected(std::string("tessera.node=3 # caf\xc3\xa9\n"), "(comment)", "byte 0xc3 at offset 20");
    std::string with_nul("tessera.node=3", 14);
    with_nul.push_back('\0');
    expect_rejected(with_nul, "tessera.node", "byte 0x00 at offset 14");
}

TEST(NodeConfig, ErrorIsAtomic)
{
    auto start = default_node_config();
    auto result
        = apply("tessera.node=5 tessera.roles=memory tessera.mode=ready tessera.ip=1.2.3.4/8 tessera.node=x", start);
    EXPECT_FALSE(result.ok);
    EXPECT_TRUE(same(result.config, start));
    EXPECT_STREQ(result.diagnostic.key, "tessera.node");

    // A later good call after a failed one starts from the unchanged config.
    auto config = start;
    ConfigDiagnostic diagnostic;
    EXPECT_TRUE(apply_config(config, "tessera.node=5 bogus\x02", diagnostic).is_error());
    EXPECT_EQ(config.node_id, 1);
    EXPECT_FALSE(apply_config(config, "tessera.mode=ready", diagnostic).is_error());
    EXPECT_EQ(config.node_id, 1);
    EXPECT_STREQ(diagnostic.key, "");
}

TEST(NodeConfig, FormatTruncatesAndReportsFullLength)
{
    auto config = default_node_config();
    config.roles = 0;
    char buffer[256];
    size_t full = format_node_config(config, buffer, sizeof(buffer));
    EXPECT_STREQ(buffer, "roles=none node=1 ip=192.0.2.1/24 grm=192.0.2.1 mode=shell");
    EXPECT_EQ(full, std::strlen(buffer));

    char small[10];
    EXPECT_EQ(format_node_config(config, small, sizeof(small)), full);
    EXPECT_STREQ(small, "roles=non");

    // A filter that lost its NUL (a caller bug) is still printed bounded.
    config.mode = BootMode::Selftest;
    std::memset(config.selftest_filter, 'z', sizeof(config.selftest_filter));
    format_node_config(config, buffer, sizeof(buffer));
    EXPECT_NE(std::string(buffer).find("selftest=" + std::string(31, 'z')), std::string::npos);
    EXPECT_EQ(std::string(buffer).find(std::string(32, 'z')), std::string::npos);
}

namespace {

TEST(NodeConfig, RdmaSelftest)
{
    EXPECT_EQ(default_node_config().rdma_selftest.role, RdmaSelftestRole::None);
    auto listen = apply("tessera.rdma.selftest=listen:7174");
    ASSERT_TRUE(listen.ok);
    EXPECT_EQ(listen.config.rdma_selftest.role, RdmaSelftestRole::Listen);
    EXPECT_EQ(listen.config.rdma_selftest.port, 7174);
    auto connect = apply("tessera.rdma.selftest=connect:192.0.2.21:18515");
    ASSERT_TRUE(connect.ok);
    EXPECT_EQ(connect.config.rdma_selftest.role, RdmaSelftestRole::Connect);
    EXPECT_EQ(connect.config.rdma_selftest.port, 18515);
    EXPECT_EQ(connect.config.rdma_selftest.peer, (Ipv4Address { { 192, 0, 2, 21 } }));
    EXPECT_EQ(apply("tessera.rdma.selftest=listen:7 tessera.rdma.selftest=none").config.rdma_selftest.role,
        RdmaSelftestRole::None);
    for (const char* bad : { "listen", "listen:", "listen:0", "listen:65536", "listen:x", "connect:192.0.2.1",
             "connect:192.0.2:5", "connect:192.0.2.1:", "serve:5", "" }) {
        SCOPED_TRACE(bad);
        expect_rejected(std::string("tessera.rdma.selftest=") + bad, "tessera.rdma.selftest");
    }
}

} // namespace

TEST(NodeConfig, PeersAndRpcSelftest)
{
    EXPECT_EQ(default_node_config().peer_count, 0);
    EXPECT_EQ(default_node_config().rpc_selftest_calls, 0u);
    auto three = apply("tessera.peers=192.0.2.11,192.0.2.12,192.0.2.13 tessera.rpc.selftest=50");
    ASSERT_TRUE(three.ok);
    ASSERT_EQ(three.config.peer_count, 3);
    EXPECT_EQ(three.config.peers[0], (Ipv4Address { { 192, 0, 2, 11 } }));
    EXPECT_EQ(three.config.peers[2], (Ipv4Address { { 192, 0, 2, 13 } }));
    EXPECT_EQ(three.config.rpc_selftest_calls, 50u);
    EXPECT_EQ(apply("tessera.peers=192.0.2.11").config.peer_count, 1);
    EXPECT_EQ(apply("tessera.peers=192.0.2.11 tessera.peers=").config.peer_count, 0);
    for (const char* bad : { "192.0.2.1,", ",192.0.2.1", "192.0.2", "192.0.2.1,,192.0.2.2",
             "1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9" }) {
        SCOPED_TRACE(bad);
        expect_rejected(std::string("tessera.peers=") + bad, "tessera.peers");
    }
    for (const char* bad : { "", "x", "-1", "1000001" }) {
        SCOPED_TRACE(bad);
        expect_rejected(std::string("tessera.rpc.selftest=") + bad, "tessera.rpc.selftest");
    }
}

TEST(NodeConfig, Rping)
{
    EXPECT_EQ(default_node_config().rping.role, RpingRole::None);
    EXPECT_EQ(default_node_config().rping.count, 0u);
    EXPECT_EQ(default_node_config().rping.size, 0u);
    auto server = apply("tessera.rping=server:7174");
    ASSERT_TRUE(server.ok);
    EXPECT_EQ(server.config.rping.role, RpingRole::Server);
    EXPECT_EQ(server.config.rping.port, 7174);
    auto client = apply("tessera.rping.count=100 tessera.rping=client:192.0.2.21:20001 tessera.rping.size=65535");
    ASSERT_TRUE(client.ok);
    EXPECT_EQ(client.config.rping.role, RpingRole::Client);
    EXPECT_EQ(client.config.rping.peer, (Ipv4Address { { 192, 0, 2, 21 } }));
    EXPECT_EQ(client.config.rping.port, 20001);
    EXPECT_EQ(client.config.rping.count, 100u); // the order of the keys does not matter
    EXPECT_EQ(client.config.rping.size, 65535u);
    auto none = apply("tessera.rping=server:7 tessera.rping.size=26 tessera.rping=none");
    EXPECT_EQ(none.config.rping.role, RpingRole::None);
    EXPECT_EQ(none.config.rping.size, 26u);
    for (const char* bad : { "server", "server:", "server:0", "server:65536", "server:x", "client:192.0.2.1",
             "client:192.0.2:5", "client:192.0.2.1:", "listen:5", "" }) {
        SCOPED_TRACE(bad);
        expect_rejected(std::string("tessera.rping=") + bad, "tessera.rping");
    }
    for (const char* bad : { "0", "-1", "1000001", "x", "" }) {
        SCOPED_TRACE(bad);
        expect_rejected(std::string("tessera.rping.count=") + bad, "tessera.rping.count");
    }
    EXPECT_TRUE(apply("tessera.rping.count=1000000").ok);
    for (const char* bad : { "25", "0", "65536", "64k", "" }) {
        SCOPED_TRACE(bad);
        expect_rejected(std::string("tessera.rping.size=") + bad, "tessera.rping.size");
    }
}
