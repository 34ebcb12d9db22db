// libFuzzer target: the RoCE engine's whole receive path (IPv4/UDP framing,
// ICRC, BTH and extension headers, QP lookup, responder and completer).
// Each input is a list of records `flags(1) length(2, big-endian) bytes`:
//   flags bit 0: the bytes are BTH onwards; wrap them in a correct IPv4/UDP
//                header from the peer and seal them with a valid ICRC (random
//                bytes almost never pass the ICRC, and then nothing deep runs)
//   flags bit 1: overwrite a RETH's R_Key with the real MR key
//   flags bit 2: overwrite the BTH destination QPN with the real RC QPN
//   otherwise:   the bytes are a whole IPv4 packet, as is
// The engine has an RC QP in RTS with outstanding WRITE/READ requests (so
// ACKs and READ responses mean something), a GSI QP, posted receives, and
// time moves forward between records so timers fire.
//
// TESSERA_FUZZ_PLANTED_BUG=1 plants a bounds bug in MemoryRegion::resolve;
// `make fuzz-roce-planted` shows that the fuzzer finds it.

#include <cstdint>
#include <cstring>
#include <net/rdma/lib/icrc.h>
#include <net/rdma/lib/roce_engine.h>
#include <vector>

using namespace tessera;
using namespace tessera::rdma;

namespace {

constexpr Ipv4Address s_local { { 192, 0, 2, 2 } };
constexpr Ipv4Address s_peer { { 192, 0, 2, 1 } };

class NullSink : public PacketSink {
public:
    ErrorOr<void> transmit(Span<const uint8_t> packet) override
    {
        // Everything the engine emits must itself parse cleanly.
        if (parse_roce_packet(packet, s_peer).reason != DropReason::None)
            __builtin_trap();
        return {};
    }
};

struct World {
    NullSink sink;
    OwnPtr<RoceEngine> engine;
    QueuePair* rc { nullptr };
    MemoryRegion* mr { nullptr };
    std::vector<uint8_t> memory = std::vector<uint8_t>(64 * 1024);
};

void must(bool ok)
{
    if (!ok)
        __builtin_trap();
}

void build(World& world)
{
    world.engine = MUST(RoceEngine::try_create({ .local_ip = s_local, .seed = 42 }, world.sink));
    RoceEngine& engine = *world.engine;
    ProtectionDomain* pd = MUST(engine.alloc_pd());
    CompletionQueue* cq = MUST(engine.create_cq(64));
    world.mr = MUST(engine.register_mr(*pd, world.memory.data(), 0x1000, world.memory.size(),
        access_local_write | access_remote_write | access_remote_read));
    world.rc = MUST(engine.create_qp({ .qp_type = QpType::Rc, .pd = pd, .send_cq = cq, .recv_cq = cq }));
    QpAttr attr;
    attr.qp_state = QpState::Init;
    attr.qp_access_flags = access_remote_write | access_remote_read;
    MUST(world.rc->modify(attr, qp_attr_state | qp_attr_pkey_index | qp_attr_port | qp_attr_access_flags));
    attr.qp_state = QpState::Rtr;
    attr.ah_attr.destination = s_peer;
    attr.path_mtu = PathMtu::Mtu256;
    attr.dest_qp_num = 0x11;
    attr.rq_psn = 0;
    MUST(world.rc->modify(attr,
        qp_attr_state | qp_attr_av | qp_attr_path_mtu | qp_attr_dest_qpn | qp_attr_rq_psn | qp_attr_max_dest_rd_atomic
            | qp_attr_min_rnr_timer));
    attr.qp_state = QpState::Rts;
    attr.sq_psn = 0;
    attr.timeout = 1;
    attr.retry_cnt = 3;
    attr.rnr_retry = 3;
    MUST(world.rc->modify(attr,
        qp_attr_state | qp_attr_sq_psn | qp_attr_timeout | qp_attr_retry_cnt | qp_attr_rnr_retry
            | qp_attr_max_qp_rd_atomic));
    QueuePair* gsi = MUST(engine.create_qp({ .qp_type = QpType::Gsi, .pd = pd, .send_cq = cq, .recv_cq = cq }));
    attr.qp_state = QpState::Init;
    MUST(gsi->modify(attr, qp_attr_state | qp_attr_pkey_index));
    attr.qp_state = QpState::Rtr;
    MUST(gsi->modify(attr, qp_attr_state));
    for (uint64_t i = 0; i < 4; ++i) {
        RecvWr recv;
        recv.wr_id = i;
        recv.sg_list[0] = { 0x1000 + i * 4096, 4096, world.mr->lkey() };
        recv.num_sge = 1;
        MUST(world.rc->post_recv(recv));
        MUST(gsi->post_recv(recv));
    }
    SendWr write;
    write.opcode = WrOpcode::RdmaWrite;
    write.sg_list[0] = { 0x1000, 700, world.mr->lkey() };
    write.num_sge = 1;
    write.remote_addr = 0x5000;
    write.rkey = 0x1234;
    MUST(world.rc->post_send(write));
    SendWr read = write;
    read.opcode = WrOpcode::RdmaRead;
    read.sg_list[0] = { 0x8000, 1000, world.mr->lkey() };
    MUST(world.rc->post_send(read));
    engine.poll(0);
}

void seal(World& world, uint8_t flags, const uint8_t* data, size_t size, std::vector<uint8_t>& out)
{
    out.assign(28 + size, 0);
    memcpy(out.data() + 28, data, size);
    Span<uint8_t> packet(out.data(), out.size());
    if ((flags & 4) && size >= 8) {
        uint32_t qpn = world.rc->qp_num();
        out[28 + 5] = static_cast<uint8_t>(qpn >> 16);
        out[28 + 6] = static_cast<uint8_t>(qpn >> 8);
        out[28 + 7] = static_cast<uint8_t>(qpn);
    }
    if ((flags & 2) && size >= 12 + 16) {
        // RETH right after the BTH (RC opcodes carry no DETH).
        uint32_t rkey = world.mr->rkey();
        for (int i = 0; i < 4; ++i)
            out[28 + 12 + 8 + i] = static_cast<uint8_t>(rkey >> (24 - 8 * i));
    }
    out[0] = 0x45;
    out[2] = static_cast<uint8_t>(out.size() >> 8);
    out[3] = static_cast<uint8_t>(out.size());
    out[6] = 0x40;
    out[8] = 64;
    out[9] = 17;
    memcpy(out.data() + 12, s_peer.octets, 4);
    memcpy(out.data() + 16, s_local.octets, 4);
    uint32_t sum = 0;
    for (size_t i = 0; i < 20; i += 2)
        sum += static_cast<uint32_t>(out[i] << 8 | out[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    out[10] = static_cast<uint8_t>(~sum >> 8);
    out[11] = static_cast<uint8_t>(~sum);
    out[20] = 0xC0;
    out[22] = 4791 >> 8;
    out[23] = 4791 & 0xFF;
    out[24] = static_cast<uint8_t>((out.size() - 20) >> 8);
    out[25] = static_cast<uint8_t>(out.size() - 20);
    if (size >= bth_size + icrc_size)
        (void)store_icrc_ipv4(packet.first(20), packet.slice(20, 8), packet.slice(28));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    World world;
    build(world);
    uint64_t now = 1000;
    std::vector<uint8_t> packet;
    size_t offset = 0;
    while (offset + 3 <= size) {
        uint8_t flags = data[offset];
        size_t length = static_cast<size_t>(data[offset + 1] << 8 | data[offset + 2]);
        offset += 3;
        if (length > size - offset)
            length = size - offset;
        if (flags & 1)
            seal(world, flags, data + offset, length, packet);
        else
            packet.assign(data + offset, data + offset + length);
        offset += length;
        world.engine->receive(Span<const uint8_t>(packet.data(), packet.size()), now);
        now += (flags >> 4) * 20000ull;
        world.engine->poll(now);
    }
    must(world.engine->counters().received_packets <= size);
    return 0;
}
