#include <net/rdma/lib/icrc.h>
#include <net/rdma/lib/transport_headers.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

using namespace tessera;
using namespace tessera::rdma;

namespace {

std::vector<uint8_t> from_hex(const char* hex)
{
    std::vector<uint8_t> bytes;
    for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
        auto nibble = [](char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
        bytes.push_back(static_cast<uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
    }
    return bytes;
}

Span<const uint8_t> span(const std::vector<uint8_t>& bytes) { return { bytes.data(), bytes.size() }; }

// Not a capture: docs/wire/roce-v2.md has no sample packet. This vector was made
// with the doc's own Python formula (zlib.crc32 over 0xFF*8 + masked IPv4 +
// masked UDP + masked BTH + rest, packed '<I'), an independent CRC-32, for
// RC SEND_ONLY "hello" (pad 3) with TOS 2, TTL 64, a nonzero IP checksum
// and UDP source port 49532. Interop against Linux rxe is still pending.
const char* s_ip = "45020034123440004011abcdc0000201c0000202";
const char* s_udp = "c17c12b700200000";
const char* s_transport = "0430ffff000000118012345668656c6c6f000000999c12db";

TEST(RdmaIcrc, Crc32CheckValue)
{
    const char* check = "123456789";
    EXPECT_EQ(crc32({ reinterpret_cast<const uint8_t*>(check), 9 }), 0xCBF43926u);
}

TEST(RdmaIcrc, SeedAfterMaskedLrhIsRxes)
{
    // rxe_icrc.c:94 starts from 0xDEBB20E3, the register after 8 x 0xFF.
    const uint8_t lrh[8] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    EXPECT_EQ(crc32_update(0xFFFFFFFFu, lrh), 0xDEBB20E3u);
}

TEST(RdmaIcrc, MatchesTheDocFormulaVector)
{
    auto ip = from_hex(s_ip), udp = from_hex(s_udp), transport = from_hex(s_transport);
    EXPECT_FALSE(verify_icrc_ipv4(span(ip), span(udp), span(transport)).is_error());
    auto stored = transport;
    std::memset(stored.data() + stored.size() - 4, 0, 4);
    ASSERT_FALSE(store_icrc_ipv4(span(ip), span(udp), { stored.data(), stored.size() }).is_error());
    EXPECT_EQ(stored, transport);
    auto decoded = decode_packet(span(transport));
    ASSERT_FALSE(decoded.is_error());
    EXPECT_EQ(decoded.value().headers.bth.opcode, Opcode::RcSendOnly);
    EXPECT_EQ(decoded.value().payload.size(), 5u);
}

TEST(RdmaIcrc, MaskedFieldsDoNotMatter)
{
    auto ip = from_hex(s_ip), udp = from_hex(s_udp), transport = from_hex(s_transport);
    ip[1] = 0xB8; // TOS (DSCP/ECN)
    ip[8] = 1; // TTL
    ip[10] = 0x00; // header checksum
    ip[11] = 0x01;
    udp[6] = 0x55; // UDP checksum
    udp[7] = 0xAA;
    transport[4] = 0xC0; // FECN/BECN
    EXPECT_FALSE(verify_icrc_ipv4(span(ip), span(udp), span(transport)).is_error());
}

bool is_masked(size_t part, size_t byte)
{
    if (part == 0)
        return byte == 1 || byte == 8 || byte == 10 || byte == 11;
    if (part == 1)
        return byte == 6 || byte == 7;
    return byte == 4;
}

TEST(RdmaIcrc, EveryCoveredBitFlipIsCaught)
{
    const std::vector<uint8_t> parts[3] = { from_hex(s_ip), from_hex(s_udp), from_hex(s_transport) };
    size_t caught = 0;
    for (size_t part = 0; part < 3; ++part) {
        for (size_t byte = 0; byte < parts[part].size(); ++byte) {
            for (int bit = 0; bit < 8; ++bit) {
                std::vector<uint8_t> flipped[3] = { parts[0], parts[1], parts[2] };
                flipped[part][byte] ^= static_cast<uint8_t>(1 << bit);
                auto result = verify_icrc_ipv4(span(flipped[0]), span(flipped[1]), span(flipped[2]));
                if (is_masked(part, byte)) {
                    EXPECT_FALSE(result.is_error()) << part << ":" << byte << ":" << bit;
                    continue;
                }
                ASSERT_TRUE(result.is_error()) << part << ":" << byte << ":" << bit;
                ++caught;
            }
        }
    }
    // (20 - 4 + 8 - 2 + 24 - 1) bytes x 8 bits.
    EXPECT_EQ(caught, 45u * 8);
}

TEST(RdmaIcrc, LengthThatLiesIsRefused)
{
    auto ip = from_hex(s_ip), udp = from_hex(s_udp), transport = from_hex(s_transport);
    auto shorter = transport;
    shorter.resize(shorter.size() - 4);
    EXPECT_EQ(verify_icrc_ipv4(span(ip), span(udp), span(shorter)).error().code(), Errno::MSGSIZE);
    ip[3] += 4;
    EXPECT_EQ(verify_icrc_ipv4(span(ip), span(udp), span(transport)).error().code(), Errno::MSGSIZE);
    ip[3] -= 4;
    udp[5] += 4;
    EXPECT_EQ(verify_icrc_ipv4(span(ip), span(udp), span(transport)).error().code(), Errno::MSGSIZE);
}

TEST(RdmaIcrc, RejectsNonIpv4Headers)
{
    auto ip = from_hex(s_ip), udp = from_hex(s_udp), transport = from_hex(s_transport);
    ip[0] = 0x46; // IHL 6: options, which rxe never sends
    EXPECT_TRUE(compute_icrc_ipv4(span(ip), span(udp), span(transport).first(20)).is_error());
}

} // namespace
