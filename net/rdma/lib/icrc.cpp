#include <net/inet/lib/byte_order.h>
#include <net/rdma/lib/icrc.h>
#include <net/rdma/lib/opcode_table.h>

namespace tessera::rdma {

namespace {

struct Crc32Table {
    uint32_t entries[256];
};

constexpr Crc32Table make_table()
{
    Crc32Table table {};
    for (uint32_t byte = 0; byte < 256; ++byte) {
        uint32_t value = byte;
        for (int bit = 0; bit < 8; ++bit)
            value = (value & 1) ? (value >> 1) ^ 0xEDB88320u : value >> 1;
        table.entries[byte] = value;
    }
    return table;
}

constexpr Crc32Table s_table = make_table();

uint32_t update_byte(uint32_t state, uint8_t byte) { return s_table.entries[(state ^ byte) & 0xFF] ^ (state >> 8); }

// Feeds `data` with the bytes at `masked` offsets replaced by 0xFF.
template<size_t N>
uint32_t update_masked(uint32_t state, Span<const uint8_t> data, const size_t (&masked)[N])
{
    for (size_t i = 0; i < data.size(); ++i) {
        uint8_t byte = data[i];
        for (size_t offset : masked) {
            if (offset == i)
                byte = 0xFF;
        }
        state = update_byte(state, byte);
    }
    return state;
}

} // namespace

uint32_t crc32_update(uint32_t state, Span<const uint8_t> data)
{
    for (uint8_t byte : data)
        state = update_byte(state, byte);
    return state;
}

uint32_t crc32(Span<const uint8_t> data) { return ~crc32_update(0xFFFFFFFFu, data); }

ErrorOr<uint32_t> compute_icrc_ipv4(
    Span<const uint8_t> ip_header, Span<const uint8_t> udp_header, Span<const uint8_t> transport)
{
    if (ip_header.size() != ipv4_header_size || ip_header[0] != 0x45)
        return Error(Errno::INVAL, "ICRC: not a 20-byte IPv4 header");
    if (udp_header.size() != udp_header_size)
        return Error(Errno::INVAL, "ICRC: not an 8-byte UDP header");
    if (transport.size() < bth_size)
        return Error(Errno::INVAL, "ICRC: shorter than a BTH");

    // Doc "ICRC" step 1: 8 bytes of 0xFF for the LRH (rxe seeds 0xDEBB20E3,
    // the register after them; icrc_test checks that equality).
    const uint8_t lrh[8] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
    uint32_t state = crc32_update(0xFFFFFFFFu, lrh);
    // Step 2: IPv4 with TOS (byte 1), TTL (byte 8), checksum (10-11) masked.
    const size_t ip_masked[] = { 1, 8, 10, 11 };
    state = update_masked(state, ip_header, ip_masked);
    // Step 3: UDP with its checksum (bytes 6-7) masked.
    const size_t udp_masked[] = { 6, 7 };
    state = update_masked(state, udp_header, udp_masked);
    // Step 4: BTH with byte 4 (FECN/BECN/resv) masked.
    const size_t bth_masked[] = { 4 };
    state = update_masked(state, transport.first(bth_size), bth_masked);
    // Step 5: everything after the BTH, up to the ICRC.
    state = crc32_update(state, transport.slice(bth_size));
    return ~state;
}

ErrorOr<void> store_icrc_ipv4(Span<const uint8_t> ip_header, Span<const uint8_t> udp_header, Span<uint8_t> packet)
{
    if (packet.size() < bth_size + icrc_size)
        return Error(Errno::INVAL, "ICRC: packet shorter than BTH + ICRC");
    Span<const uint8_t> covered = Span<const uint8_t>(packet).first(packet.size() - icrc_size);
    uint32_t icrc = TRY(compute_icrc_ipv4(ip_header, udp_header, covered));
    // Little-endian, like an Ethernet FCS (doc "ICRC", rxe_icrc.c:174).
    for (size_t i = 0; i < icrc_size; ++i)
        packet[packet.size() - icrc_size + i] = static_cast<uint8_t>(icrc >> (8 * i));
    return {};
}

ErrorOr<void> verify_icrc_ipv4(
    Span<const uint8_t> ip_header, Span<const uint8_t> udp_header, Span<const uint8_t> packet)
{
    if (packet.size() < bth_size + icrc_size)
        return Error(Errno::MSGSIZE, "ICRC: packet shorter than BTH + ICRC");
    if (ip_header.size() != ipv4_header_size || udp_header.size() != udp_header_size)
        return Error(Errno::INVAL, "ICRC: bad IPv4 or UDP header size");
    if (load_be16(ip_header, 2) != ipv4_header_size + udp_header_size + packet.size())
        return Error(Errno::MSGSIZE, "IPv4 total length does not match the packet");
    if (load_be16(udp_header, 4) != udp_header_size + packet.size())
        return Error(Errno::MSGSIZE, "UDP length does not match the packet");
    uint32_t expected = TRY(compute_icrc_ipv4(ip_header, udp_header, packet.first(packet.size() - icrc_size)));
    Span<const uint8_t> stored = packet.last(icrc_size);
    uint32_t actual = static_cast<uint32_t>(stored[0]) | static_cast<uint32_t>(stored[1]) << 8
        | static_cast<uint32_t>(stored[2]) << 16 | static_cast<uint32_t>(stored[3]) << 24;
    if (actual != expected)
        return Error(Errno::PROTO, "ICRC mismatch");
    return {};
}

} // namespace tessera::rdma
