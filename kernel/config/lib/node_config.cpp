#include <kernel/config/lib/node_config.h>
#include <kernel/lib/format.h>

namespace tessera {

namespace {

constexpr StringView key_prefix = "tessera.";
constexpr size_t max_value_length = 255;
// Values quoted in a reason are cut here so that the reason itself still fits.
constexpr int max_quoted_length = 40;

constexpr bool is_separator(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

constexpr bool is_printable(char c)
{
    auto byte = static_cast<unsigned char>(c);
    return byte >= 0x20 && byte <= 0x7e;
}

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Copies `key` into the diagnostic; anything unprintable becomes '?' so that
// the message is always safe to put on a console.
void set_diagnostic_key(ConfigDiagnostic& diagnostic, StringView key)
{
    size_t n = 0;
    for (; n < key.length() && n + 1 < sizeof(diagnostic.key); ++n)
        diagnostic.key[n] = is_printable(key[n]) ? key[n] : '?';
    diagnostic.key[n] = '\0';
}

// Writes `"<value>" <what>`, shortening a long value with "...".
void set_reason_about_value(ConfigDiagnostic& diagnostic, StringView value, const char* what)
{
    bool shortened = value.length() > static_cast<size_t>(max_quoted_length);
    int shown = shortened ? max_quoted_length : static_cast<int>(value.length());
    format(diagnostic.reason, sizeof(diagnostic.reason), "\"%.*s%s\" %s", shown, value.data(), shortened ? "..." : "",
        what);
}

// Unsigned decimal no greater than `max`: digits only, no sign, no spaces.
bool parse_decimal(StringView text, uint32_t max, bool allow_leading_zeros, uint32_t& result)
{
    if (text.is_empty())
        return false;
    if (!allow_leading_zeros && text.length() > 1 && text[0] == '0')
        return false;
    uint32_t value = 0;
    for (size_t i = 0; i < text.length(); ++i) {
        if (!is_digit(text[i]))
            return false;
        // `max` is far below 2^32 / 10, so this cannot wrap before the check.
        value = value * 10 + static_cast<uint32_t>(text[i] - '0');
        if (value > max)
            return false;
    }
    result = value;
    return true;
}

// Exactly four decimal octets 0..255 joined by dots; a leading zero ("010")
// is refused because other parsers read it as octal.
bool parse_ipv4(StringView text, Ipv4Address& result)
{
    Ipv4Address address {};
    size_t start = 0;
    for (size_t i = 0; i < 4; ++i) {
        size_t dot = text.find('.', start);
        bool last = i == 3;
        if (last != (dot == StringView::npos))
            return false;
        size_t end = last ? text.length() : dot;
        uint32_t octet = 0;
        if (!parse_decimal(text.substring(start, end - start), 255, false, octet))
            return false;
        address.octets[i] = static_cast<uint8_t>(octet);
        start = end + 1;
    }
    result = address;
    return true;
}

template<typename T, size_t N>
bool lookup_name(StringView value, const char* const (&names)[N], T& result)
{
    for (size_t i = 0; i < N; ++i) {
        if (value == StringView(names[i])) {
            result = static_cast<T>(i);
            return true;
        }
    }
    return false;
}

constexpr const char* role_names[] = { "processor", "memory", "storage", "grm" };
constexpr const char* boot_mode_names[] = { "shell", "ready", "selftest", "boot-bench" };
constexpr const char* log_level_names[] = { "debug", "info", "warn", "error" };
constexpr const char* fault_injection_names[]
    = { "none", "fault", "fail", "hang", "overflow", "fail-expect", "fail-eq", "fail-must", "fail-thread",
          "fail-late-thread", "stuck-thread", "panic-race", "mutex-under-spinlock", "schedule-under-spinlock",
          "mutex-irqs-off", "console-recursion", "fail-irq-in-capture", "skip-from-irq", "virtio-corrupt-tx" };

// Each setter validates `value` completely before writing into `config`, and
// on failure fills in diagnostic.reason and returns false.
using Setter = bool (*)(NodeConfig& config, StringView value, ConfigDiagnostic& diagnostic);

bool set_roles(NodeConfig& config, StringView value, ConfigDiagnostic& diagnostic)
{
    uint8_t roles = 0;
    size_t start = 0;
    while (true) {
        size_t comma = value.find(',', start);
        size_t end = comma == StringView::npos ? value.length() : comma;
        StringView item = value.substring(start, end - start);
        if (item.is_empty()) {
            set_reason_about_value(diagnostic, value, "has an empty role");
            return false;
        }
        size_t index = 0;
        if (!lookup_name(item, role_names, index)) {
            set_reason_about_value(diagnostic, item, "is not a role (processor, memory, storage, grm)");
            return false;
        }
        auto bit = static_cast<uint8_t>(1u << index);
        if (roles & bit) {
            set_reason_about_value(diagnostic, item, "is listed twice");
            return false;
        }
        roles |= bit;
        if (comma == StringView::npos)
            break;
        start = comma + 1;
    }
    config.roles = roles;
    return true;
}

bool set_node(NodeConfig& config, StringView value, ConfigDiagnostic& diagnostic)
{
    uint32_t node = 0;
    if (!parse_decimal(value, 65535, true, node)) {
        set_reason_about_value(diagnostic, value, "is not a number in 0..65535");
        return false;
    }
    config.node_id = static_cast<uint16_t>(node);
    return true;
}

bool set_ip(NodeConfig& config, StringView value, ConfigDiagnostic& diagnostic)
{
    size_t slash = value.find('/');
    if (slash == StringView::npos) {
        set_reason_about_value(diagnostic, value, "has no /prefix (e.g. 192.0.2.13/24)");
        return false;
    }
    Ipv4Address address {};
    uint32_t prefix = 0;
    if (!parse_ipv4(value.substring(0, slash), address)
        || !parse_decimal(value.substring(slash + 1), 32, false, prefix)) {
        set_reason_about_value(diagnostic, value, "is not an IPv4 address with a /prefix in 0..32");
        return false;
    }
    config.ip = address;
    config.prefix_length = static_cast<uint8_t>(prefix);
    config.ip_configured = true;
    return true;
}

bool set_grm(NodeConfig& config, StringView value, ConfigDiagnostic& diagnostic)
{
    Ipv4Address address {};
    if (!parse_ipv4(value, address)) {
        set_reason_about_value(diagnostic, value, "is not a dotted IPv4 address");
        return false;
    }
    config.grm = address;
    return true;
}

bool set_mode(NodeConfig& config, StringView value, ConfigDiagnostic& diagnostic)
{
    if (!lookup_name(value, boot_mode_names, config.mode)) {
        set_reason_about_value(diagnostic, value, "is not a mode (shell, ready, selftest, boot-bench)");
        return false;
    }
    return true;
}

bool set_log_level(NodeConfig& config, StringView value, ConfigDiagnostic& diagnostic)
{
    if (!lookup_name(value, log_level_names, config.log_level)) {
        set_reason_about_value(diagnostic, value, "is not a log level (debug, info, warn, error)");
        return false;
    }
    return true;
}

bool set_inject(NodeConfig& config, StringView value, ConfigDiagnostic& diagnostic)
{
    if (!lookup_name(value, fault_injection_names, config.inject)) {
        set_reason_about_value(diagnostic, value, "is not a fault injection (none, fail*, fault, hang, overflow, ...)");
        return false;
    }
    return true;
}

bool set_selftest(NodeConfig& config, StringView value, ConfigDiagnostic& diagnostic)
{
    bool valid = value.length() < selftest_filter_capacity;
    for (size_t i = 0; valid && i < value.length(); ++i) {
        char c = value[i];
        valid = (c >= 'a' && c <= 'z') || is_digit(c) || c == '_';
    }
    if (!valid) {
        set_reason_about_value(diagnostic, value, "is not `all` or a suite name of up to 31 [a-z0-9_]");
        return false;
    }
    for (size_t i = 0; i < value.length(); ++i)
        config.selftest_filter[i] = value[i];
    config.selftest_filter[value.length()] = '\0';
    return true;
}

// "PASSIVE:PORT" or "ACTIVE:A.B.C.D:PORT" (port 1..65535), the shape of
// every test-service key (tessera.rdma.selftest, tessera.rping). False for
// anything else; `active` tells which verb it was.
bool parse_service_endpoint(StringView value, const char* passive_verb, const char* active_verb, bool& active,
    Ipv4Address& peer, uint16_t& port)
{
    size_t colon = value.find(':');
    if (colon == StringView::npos)
        return false;
    StringView verb = value.substring(0, colon);
    StringView rest = value.substring(colon + 1);
    peer = {};
    if (verb == StringView(passive_verb)) {
        active = false;
    } else if (verb == StringView(active_verb)) {
        active = true;
        size_t second = rest.find(':');
        if (second == StringView::npos || !parse_ipv4(rest.substring(0, second), peer))
            return false;
        rest = rest.substring(second + 1);
    } else {
        return false;
    }
    uint32_t parsed_port = 0;
    if (!parse_decimal(rest, 65535, false, parsed_port) || parsed_port == 0)
        return false;
    port = static_cast<uint16_t>(parsed_port);
    return true;
}

bool set_rdma_selftest(NodeConfig& config, StringView value, ConfigDiagnostic& diagnostic)
{
    constexpr const char* usage = "is not none, listen:PORT or connect:A.B.C.D:PORT (port 1..65535)";
    RdmaSelftestConfig parsed {};
    if (value == StringView("none")) {
        config.rdma_selftest = parsed;
        return true;
    }
    bool active = false;
    if (!parse_service_endpoint(value, "listen", "connect", active, parsed.peer, parsed.port)) {
        set_reason_about_value(diagnostic, value, usage);
        return false;
    }
    parsed.role = active ? RdmaSelftestRole::Connect : RdmaSelftestRole::Listen;
    config.rdma_selftest = parsed;
    return true;
}

bool set_peers(NodeConfig& config, StringView value, ConfigDiagnostic& diagnostic)
{
    Ipv4Address parsed[max_peers] {};
    size_t count = 0;
    while (!value.is_empty()) {
        size_t comma = value.find(',');
        StringView item = comma == StringView::npos ? value : value.substring(0, comma);
        if (count == max_peers || !parse_ipv4(item, parsed[count])) {
            set_reason_about_value(
                diagnostic, value, "is not a list of up to 8 dotted IPv4 addresses, comma separated");
            return false;
        }
        ++count;
        if (comma == StringView::npos)
            break;
        value = value.substring(comma + 1);
        if (value.is_empty()) {
            set_reason_about_value(diagnostic, value, "ends with a comma");
            return false;
        }
    }
    for (size_t i = 0; i < max_peers; ++i)
        config.peers[i] = parsed[i];
    config.peer_count = static_cast<uint8_t>(count);
    return true;
}

bool set_rpc_selftest(NodeConfig& config, StringView value, ConfigDiagnostic& diagnostic)
{
    uint32_t calls = 0;
    if (!parse_decimal(value, max_rpc_selftest_calls, false, calls)) {
        set_reason_about_value(diagnostic, value, "is not a number of calls in 0..1000000");
        return false;
    }
    config.rpc_selftest_calls = calls;
    return true;
}

bool set_rping(NodeConfig& config, StringView value, ConfigDiagnostic& diagnostic)
{
    constexpr const char* usage = "is not none, server:PORT or client:A.B.C.D:PORT (port 1..65535)";
    RpingConfig parsed = config.rping;
    parsed.peer = {};
    parsed.port = 0;
    if (value == StringView("none")) {
        parsed.role = RpingRole::None;
        config.rping = parsed;
        return true;
    }
    bool active = false;
    if (!parse_service_endpoint(value, "server", "client", active, parsed.peer, parsed.port)) {
        set_reason_about_value(diagnostic, value, usage);
        return false;
    }
    parsed.role = active ? RpingRole::Client : RpingRole::Server;
    config.rping = parsed;
    return true;
}

bool set_rping_count(NodeConfig& config, StringView value, ConfigDiagnostic& diagnostic)
{
    uint32_t count = 0;
    if (!parse_decimal(value, rping_max_count, false, count) || count == 0) {
        set_reason_about_value(diagnostic, value, "is not a ping count 1..1000000");
        return false;
    }
    config.rping.count = count;
    return true;
}

bool set_rping_size(NodeConfig& config, StringView value, ConfigDiagnostic& diagnostic)
{
    uint32_t size = 0;
    // rping.c's bounds: RPING_MIN_BUFSIZE (26) .. RPING_BUFSIZE - 1.
    if (!parse_decimal(value, 65535, false, size) || size < 26) {
        set_reason_about_value(diagnostic, value, "is not a ping size 26..65535");
        return false;
    }
    config.rping.size = size;
    return true;
}

struct Setting {
    StringView key;
    Setter set;
};

constexpr Setting settings[] = {
    { "tessera.roles", set_roles },
    { "tessera.node", set_node },
    { "tessera.ip", set_ip },
    { "tessera.grm", set_grm },
    { "tessera.mode", set_mode },
    { "tessera.loglevel", set_log_level },
    { "tessera.inject", set_inject },
    { "tessera.selftest", set_selftest },
    { "tessera.rdma.selftest", set_rdma_selftest },
    { "tessera.peers", set_peers },
    { "tessera.rpc.selftest", set_rpc_selftest },
    { "tessera.rping", set_rping },
    { "tessera.rping.count", set_rping_count },
    { "tessera.rping.size", set_rping_size },
};

Error fail(ConfigDiagnostic& diagnostic, StringView key, const char* what)
{
    set_diagnostic_key(diagnostic, key);
    return Error(Errno::INVAL, what);
}

// `token` is a maximal run of bytes without separators or '#'; `offset` is
// where it starts in the whole text (for the diagnostic).
ErrorOr<void> apply_token(NodeConfig& config, StringView token, size_t offset, ConfigDiagnostic& diagnostic)
{
    size_t equals = token.find('=');
    StringView key = token.substring(0, equals);

    for (size_t i = 0; i < token.length(); ++i) {
        if (!is_printable(token[i])) {
            format(diagnostic.reason, sizeof(diagnostic.reason), "byte 0x%02x at offset %zu is not printable ASCII",
                static_cast<unsigned char>(token[i]), offset + i);
            return fail(diagnostic, key, "configuration text has an unprintable byte");
        }
    }
    if (!key.starts_with(key_prefix))
        return {};

    if (equals == StringView::npos) {
        format(diagnostic.reason, sizeof(diagnostic.reason), "has no '=' (expected key=value)");
        return fail(diagnostic, key, "configuration setting without '='");
    }
    const Setting* setting = nullptr;
    for (auto const& candidate : settings) {
        if (candidate.key == key)
            setting = &candidate;
    }
    if (setting == nullptr) {
        format(diagnostic.reason, sizeof(diagnostic.reason), "is not a known tessera.* setting");
        return fail(diagnostic, key, "unknown configuration setting");
    }
    StringView value = token.substring(equals + 1);
    if (value.is_empty()) {
        format(diagnostic.reason, sizeof(diagnostic.reason), "has an empty value");
        return fail(diagnostic, key, "configuration setting with an empty value");
    }
    if (value.length() > max_value_length) {
        format(diagnostic.reason, sizeof(diagnostic.reason), "value is %zu bytes long (at most %zu)", value.length(),
            max_value_length);
        return fail(diagnostic, key, "configuration value too long");
    }
    if (!setting->set(config, value, diagnostic))
        return fail(diagnostic, key, "malformed configuration value");
    return {};
}

} // namespace

NodeConfig default_node_config()
{
    NodeConfig config {};
    config.roles = all_roles;
    config.node_id = 1;
    config.ip = { { 192, 0, 2, 1 } };
    config.prefix_length = 24;
    config.grm = { { 192, 0, 2, 1 } };
    config.mode = BootMode::Shell;
    config.log_level = LogLevel::Info;
    config.inject = FaultInjection::None;
    config.selftest_filter[0] = 'a';
    config.selftest_filter[1] = 'l';
    config.selftest_filter[2] = 'l';
    config.selftest_filter[3] = '\0';
    return config;
}

ErrorOr<void> apply_config(NodeConfig& config, StringView text, ConfigDiagnostic& diagnostic)
{
    diagnostic.key[0] = '\0';
    diagnostic.reason[0] = '\0';

    // Work on a copy so that a bad setting late in the text leaves nothing
    // of the earlier ones behind: the node never boots half-configured.
    NodeConfig working = config;
    size_t i = 0;
    while (i < text.length()) {
        char c = text[i];
        if (is_separator(c)) {
            ++i;
            continue;
        }
        if (c == '#') {
            for (; i < text.length() && text[i] != '\n'; ++i) {
                if (!is_printable(text[i]) && !is_separator(text[i])) {
                    format(diagnostic.reason, sizeof(diagnostic.reason),
                        "byte 0x%02x at offset %zu is not printable ASCII", static_cast<unsigned char>(text[i]), i);
                    return fail(diagnostic, "(comment)", "configuration text has an unprintable byte");
                }
            }
            continue;
        }
        size_t start = i;
        while (i < text.length() && !is_separator(text[i]) && text[i] != '#')
            ++i;
        TRY(apply_token(working, text.substring(start, i - start), start, diagnostic));
    }
    config = working;
    return {};
}

const char* role_name(Role role)
{
    switch (role) {
    case Role::Processor:
        return role_names[0];
    case Role::Memory:
        return role_names[1];
    case Role::Storage:
        return role_names[2];
    case Role::Grm:
        return role_names[3];
    }
    return "?";
}

const char* boot_mode_name(BootMode mode)
{
    auto index = static_cast<size_t>(mode);
    return index < sizeof(boot_mode_names) / sizeof(boot_mode_names[0]) ? boot_mode_names[index] : "?";
}

const char* log_level_name(LogLevel level)
{
    auto index = static_cast<size_t>(level);
    return index < sizeof(log_level_names) / sizeof(log_level_names[0]) ? log_level_names[index] : "?";
}

const char* fault_injection_name(FaultInjection inject)
{
    auto index = static_cast<size_t>(inject);
    return index < sizeof(fault_injection_names) / sizeof(fault_injection_names[0]) ? fault_injection_names[index]
                                                                                    : "?";
}

size_t format_node_config(const NodeConfig& config, char* buffer, size_t size)
{
    // "processor,memory,storage,grm" is the longest list.
    char roles[40];
    size_t used = 0;
    for (size_t i = 0; i < 4; ++i) {
        if (!config.has_role(static_cast<Role>(1u << i)))
            continue;
        used += format(roles + used, sizeof(roles) - used, "%s%s", used ? "," : "", role_names[i]);
    }
    if (used == 0)
        format(roles, sizeof(roles), "none");

    bool show_level = config.log_level != LogLevel::Info;
    bool show_inject = config.inject != FaultInjection::None;
    bool show_filter = config.mode == BootMode::Selftest;
    auto const& ip = config.ip.octets;
    auto const& grm = config.grm.octets;
    return format(buffer, size, "roles=%s node=%u ip=%u.%u.%u.%u/%u grm=%u.%u.%u.%u mode=%s%s%s%s%s%s%.*s", roles,
        config.node_id, ip[0], ip[1], ip[2], ip[3], config.prefix_length, grm[0], grm[1], grm[2], grm[3],
        boot_mode_name(config.mode), show_level ? " loglevel=" : "", show_level ? log_level_name(config.log_level) : "",
        show_inject ? " inject=" : "", show_inject ? fault_injection_name(config.inject) : "",
        show_filter ? " selftest=" : "", static_cast<int>(selftest_filter_capacity - 1),
        show_filter ? config.selftest_filter : "");
}

} // namespace tessera
