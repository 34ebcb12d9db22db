#include <net/rdma/lib/transport_headers.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

using namespace tessera;
using namespace tessera::rdma;

namespace {

TransportHeaders sample_headers(Opcode opcode)
{
    TransportHeaders headers;
    headers.bth = { opcode, true, true, 0, 0x7FFF, true, true, 0xABCDEF, true, 0xFFFFFE };
    headers.reth = { 0x0102030405060708ull, 0x11223344, 0x10000 };
    headers.aeth = { AethKind::Nak, static_cast<uint8_t>(NakCode::RemoteAccessError), 0x123456 };
    headers.immediate = 0xDEADBEEF;
    headers.deth = { 0x80010000, 0x000011 };
    return headers;
}

std::vector<uint8_t> encode(const TransportHeaders& headers, const std::vector<uint8_t>& payload)
{
    std::vector<uint8_t> out(MUST(encoded_size(headers.bth.opcode, payload.size())));
    size_t size = MUST(encode_packet(headers, { payload.data(), payload.size() }, { out.data(), out.size() }));
    EXPECT_EQ(size, out.size());
    return out;
}

ErrorOr<DecodedPacket> decode(const std::vector<uint8_t>& packet)
{
    return decode_packet({ packet.data(), packet.size() });
}

TEST(RdmaTransportHeaders, EveryOpcodeRoundTrips)
{
    size_t opcodes = 0;
    for (const OpcodeInfo* info = opcode_table_begin(); info != opcode_table_end(); ++info, ++opcodes) {
        for (size_t length : { 0u, 1u, 2u, 3u, 4u, 5u, 1024u }) {
            if (!info->has(header_payload) && length != 0)
                continue;
            SCOPED_TRACE(info->name);
            std::vector<uint8_t> payload(length);
            for (size_t i = 0; i < length; ++i)
                payload[i] = static_cast<uint8_t>(i * 7 + 1);
            TransportHeaders headers = sample_headers(info->opcode);
            auto packet = encode(headers, payload);
            EXPECT_EQ(packet.size(), bth_size + info->extension_size() + length + ((0 - length) & 3) + icrc_size);
            auto decoded = MUST(decode(packet));
            EXPECT_EQ(decoded.info, info);
            const Bth& bth = decoded.headers.bth;
            EXPECT_EQ(bth.opcode, info->opcode);
            EXPECT_TRUE(bth.solicited && bth.migrated && bth.fecn && bth.becn && bth.ack_request);
            EXPECT_EQ(bth.pad_count, (0 - length) & 3);
            EXPECT_EQ(bth.pkey, 0x7FFF);
            EXPECT_EQ(bth.dest_qpn, 0xABCDEFu);
            EXPECT_EQ(bth.psn, 0xFFFFFEu);
            if (info->has(header_reth)) {
                EXPECT_EQ(decoded.headers.reth.virtual_address, 0x0102030405060708ull);
                EXPECT_EQ(decoded.headers.reth.rkey, 0x11223344u);
                EXPECT_EQ(decoded.headers.reth.dma_length, 0x10000u);
            }
            if (info->has(header_aeth)) {
                EXPECT_EQ(decoded.headers.aeth.kind, AethKind::Nak);
                EXPECT_EQ(decoded.headers.aeth.nak_code(), NakCode::RemoteAccessError);
                EXPECT_EQ(decoded.headers.aeth.msn, 0x123456u);
            }
            if (info->has(header_immdt)) {
                EXPECT_EQ(decoded.headers.immediate, 0xDEADBEEFu);
            }
            if (info->has(header_deth)) {
                EXPECT_EQ(decoded.headers.deth.qkey, 0x80010000u);
                EXPECT_EQ(decoded.headers.deth.source_qpn, 0x11u);
            }
            ASSERT_EQ(decoded.payload.size(), length);
            EXPECT_TRUE(std::equal(payload.begin(), payload.end(), decoded.payload.begin()));
        }
    }
    EXPECT_EQ(opcodes, 20u);
}

TEST(RdmaTransportHeaders, WireLayoutOfAWriteOnlyImm)
{
    TransportHeaders headers = sample_headers(Opcode::RcWriteOnlyImm);
    auto packet = encode(headers, { 0xAA });
    const std::vector<uint8_t> expected
        = { 0x0b, 0xF0, 0x7F, 0xFF, 0xC0, 0xAB, 0xCD, 0xEF, 0x80, 0xFF, 0xFF, 0xFE, // BTH
              0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x11, 0x22, 0x33, 0x44, 0x00, 0x01, 0x00, 0x00, // RETH
              0xDE, 0xAD, 0xBE, 0xEF, // ImmDt after RETH
              0xAA, 0x00, 0x00, 0x00, // payload + pad 3
              0x00, 0x00, 0x00, 0x00 }; // ICRC slot
    EXPECT_EQ(packet, expected);
}

TEST(RdmaTransportHeaders, AethSyndromes)
{
    struct Case {
        uint8_t syndrome;
        AethKind kind;
        uint8_t value;
    };
    for (Case c :
        { Case { 0x1F, AethKind::Ack, 0x1F }, Case { 0x2E, AethKind::RnrNak, 0x0E }, Case { 0x60, AethKind::Nak, 0 },
            Case { 0x61, AethKind::Nak, 1 }, Case { 0x62, AethKind::Nak, 2 }, Case { 0x63, AethKind::Nak, 3 } }) {
        TransportHeaders headers = sample_headers(Opcode::RcAcknowledge);
        auto packet = encode(headers, {});
        packet[bth_size] = c.syndrome;
        auto decoded = MUST(decode(packet));
        EXPECT_EQ(decoded.headers.aeth.kind, c.kind);
        EXPECT_EQ(decoded.headers.aeth.value, c.value);
        EXPECT_EQ(decoded.headers.aeth.syndrome(), c.syndrome);
    }
    for (uint8_t reserved : { 0x40, 0x5F, 0x65, 0x7F, 0x80, 0xFF }) {
        auto packet = encode(sample_headers(Opcode::RcAcknowledge), {});
        packet[bth_size] = reserved;
        EXPECT_EQ(decode(packet).error().code(), Errno::PROTO) << int(reserved);
    }
}

TEST(RdmaTransportHeaders, ShortAtEveryLength)
{
    for (const OpcodeInfo* info = opcode_table_begin(); info != opcode_table_end(); ++info) {
        std::vector<uint8_t> payload(info->has(header_payload) ? 6 : 0, 0x5A);
        auto packet = encode(sample_headers(info->opcode), payload);
        size_t minimum = bth_size + info->extension_size() + icrc_size + ((0 - payload.size()) & 3);
        for (size_t size = 0; size < packet.size(); ++size) {
            std::vector<uint8_t> cut(packet.begin(), packet.begin() + static_cast<long>(size));
            auto result = decode(cut);
            if (size < minimum) {
                ASSERT_TRUE(result.is_error()) << info->name << " at " << size;
                EXPECT_TRUE(result.error().code() == Errno::MSGSIZE || result.error().code() == Errno::PROTO);
            } else {
                // Long enough for headers + pad: a shorter payload, which
                // only the IP/UDP lengths (verify_icrc_ipv4) can expose.
                ASSERT_FALSE(result.is_error()) << info->name << " at " << size;
            }
        }
    }
}

TEST(RdmaTransportHeaders, UnknownAndUnsupportedOpcodes)
{
    auto packet = encode(sample_headers(Opcode::RcSendOnly), { 1, 2, 3, 4 });
    size_t known = 0;
    for (int opcode = 0; opcode < 256; ++opcode) {
        packet[0] = static_cast<uint8_t>(opcode);
        auto result = decode(packet);
        if (find_opcode(static_cast<uint8_t>(opcode)) != nullptr) {
            ++known;
            continue;
        }
        ASSERT_TRUE(result.is_error());
        EXPECT_EQ(result.error().code(), Errno::NOSYS) << opcode;
    }
    EXPECT_EQ(known, 20u);
    // Atomics (0x12 compare-swap, 0x13 fetch-add, 0x14 atomic ACK) and UC.
    EXPECT_EQ(find_opcode(0x12), nullptr);
    EXPECT_EQ(find_opcode(0x14), nullptr);
    EXPECT_EQ(find_opcode(0x24), nullptr);
    TransportHeaders atomic = sample_headers(static_cast<Opcode>(0x13));
    EXPECT_EQ(encoded_size(atomic.bth.opcode, 0).error().code(), Errno::NOSYS);
}

TEST(RdmaTransportHeaders, BadFieldsAreRefused)
{
    auto packet = encode(sample_headers(Opcode::RcSendOnly), { 1, 2, 3, 4, 5 }); // pad 3
    for (uint8_t tver = 1; tver < 16; ++tver) {
        auto bad = packet;
        bad[1] = static_cast<uint8_t>((bad[1] & 0xF0) | tver);
        EXPECT_EQ(decode(bad).error().code(), Errno::PROTO);
    }
    // 1 byte of payload + pad, but pad count 3 claims more.
    auto one = encode(sample_headers(Opcode::RcSendOnly), { 9, 9, 9, 9 }); // 4 bytes, pad 0
    one.erase(one.begin() + bth_size, one.begin() + bth_size + 3); // 1 byte left
    one[1] = static_cast<uint8_t>((one[1] & ~0x30) | 0x30);
    EXPECT_EQ(decode(one).error().code(), Errno::PROTO);
    one[1] = static_cast<uint8_t>((one[1] & ~0x30) | 0x10);
    EXPECT_FALSE(decode(one).is_error());
    EXPECT_EQ(MUST(decode(one)).payload.size(), 0u);
    // Data or pad on an opcode that carries none (ACK, READ request).
    for (Opcode opcode : { Opcode::RcAcknowledge, Opcode::RcReadRequest }) {
        auto dataless = encode(sample_headers(opcode), {});
        auto longer = dataless;
        longer.insert(longer.begin() + bth_size, 4, 0);
        EXPECT_EQ(decode(longer).error().code(), Errno::PROTO);
        dataless[1] |= 0x10;
        EXPECT_EQ(decode(dataless).error().code(), Errno::PROTO);
    }
}

TEST(RdmaTransportHeaders, EncoderRefusesOutOfRangeFields)
{
    std::vector<uint8_t> out(2048);
    Span<uint8_t> buffer(out.data(), out.size());
    const uint8_t byte = 1;
    TransportHeaders headers = sample_headers(Opcode::RcSendOnly);
    headers.bth.dest_qpn = 0x1000000;
    EXPECT_EQ(encode_packet(headers, {}, buffer).error().code(), Errno::INVAL);
    headers = sample_headers(Opcode::RcSendOnly);
    headers.bth.psn = 0x1000000;
    EXPECT_EQ(encode_packet(headers, {}, buffer).error().code(), Errno::INVAL);
    headers = sample_headers(Opcode::UdSendOnly);
    headers.deth.source_qpn = 0x1000000;
    EXPECT_EQ(encode_packet(headers, {}, buffer).error().code(), Errno::INVAL);
    headers = sample_headers(Opcode::RcAcknowledge);
    headers.aeth.value = 5; // NAK 0x65 is reserved
    EXPECT_EQ(encode_packet(headers, {}, buffer).error().code(), Errno::INVAL);
    headers.aeth = { static_cast<AethKind>(2), 0, 0 };
    EXPECT_EQ(encode_packet(headers, {}, buffer).error().code(), Errno::INVAL);
    headers = sample_headers(Opcode::RcAcknowledge);
    EXPECT_EQ(encode_packet(headers, { &byte, 1 }, buffer).error().code(), Errno::INVAL);
    headers = sample_headers(Opcode::RcSendOnly);
    EXPECT_EQ(encode_packet(headers, { &byte, 1 }, buffer.first(bth_size + 4 + 3)).error().code(), Errno::NOSPC);
    EXPECT_FALSE(encode_packet(headers, { &byte, 1 }, buffer.first(bth_size + 4 + 4)).is_error());
}

} // namespace
