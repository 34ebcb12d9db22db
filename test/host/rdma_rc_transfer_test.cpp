// RC SEND/RECV, SEND_WITH_IMM, WRITE, WRITE_WITH_IMM and READ between two
// engines over a perfect link: every size from 1 byte to 4 MiB arrives
// byte-exact at path MTU 1024 and 4096, and the packets are cut the way
// rxe cuts them.

#include <gtest/gtest.h>
#include <rdma_pair.h>

using namespace tessera;
using namespace tessera::test;
using namespace tessera::test::roce;

namespace {

constexpr size_t big = 4u << 20;
const size_t s_sizes[]
    = { 1, 3, 4, 255, 256, 1000, 1023, 1024, 1025, 2047, 4095, 4096, 4097, 8192, 65536 + 7, (1u << 20) + 3, big };

struct Case {
    WrOpcode opcode;
    PathMtu mtu;
};

class RcTransfer : public ::testing::TestWithParam<Case> { };

TEST_P(RcTransfer, EverySizeArrivesByteExact)
{
    Case param = GetParam();
    RdmaPair pair({}, {}, 2 * big + 4096);
    pair.connect({ .mtu = param.mtu });
    Endpoint& a = pair.a;
    Endpoint& b = pair.b;
    uint64_t id = 0;
    for (size_t size : s_sizes) {
        SCOPED_TRACE(size);
        ++id;
        bool read = param.opcode == WrOpcode::RdmaRead;
        // A sends from [0, big); B's target is [big, 2 big). For READ, A
        // reads B's [0, big) into its own [big, 2 big).
        fill_pattern(read ? b.buffer : a.buffer, 0, size, static_cast<uint32_t>(id));
        std::fill(a.buffer.begin() + big, a.buffer.begin() + 2 * big + 4096, 0xEE);
        std::fill(b.buffer.begin() + big, b.buffer.begin() + 2 * big + 4096, 0xEE);
        bool receives = param.opcode == WrOpcode::Send || param.opcode == WrOpcode::SendWithImm
            || param.opcode == WrOpcode::RdmaWriteWithImm;
        if (receives)
            MUST(b.qp->post_recv(make_recv(id, b.sge(big, static_cast<uint32_t>(big)))));
        SendWr wr = make_wr(id, param.opcode, a.sge(read ? big : 0, static_cast<uint32_t>(size)),
            read ? b.va(0) : b.va(big), b.mr->rkey());
        wr.imm_data = 0xA5000000u | static_cast<uint32_t>(id);
        MUST(a.qp->post_send(wr));
        std::vector<WorkCompletion> a_done, b_done;
        ASSERT_TRUE(pair.run_until([&] {
            for (auto& wc : a.drain())
                a_done.push_back(wc);
            for (auto& wc : b.drain())
                b_done.push_back(wc);
            return a_done.size() == 1 && b_done.size() == (receives ? 1u : 0u);
        }));
        EXPECT_EQ(a_done[0].status, WcStatus::Success) << wc_status_name(a_done[0].status);
        EXPECT_EQ(a_done[0].wr_id, id);
        EXPECT_EQ(a_done[0].byte_len, size);
        const auto& source = read ? b.buffer : a.buffer;
        const auto& target = read ? a.buffer : b.buffer;
        ASSERT_EQ(0, memcmp(source.data(), target.data() + big, size));
        EXPECT_EQ(target[big + size], 0xEE) << "wrote past the end";
        EXPECT_EQ(target[big - 1], 0) << "wrote before the start";
        if (receives) {
            EXPECT_EQ(b_done[0].status, WcStatus::Success);
            EXPECT_EQ(b_done[0].wr_id, id);
            EXPECT_EQ(b_done[0].byte_len, size);
            bool imm = param.opcode != WrOpcode::Send;
            EXPECT_EQ((b_done[0].wc_flags & wc_with_imm) != 0, imm);
            if (imm) {
                EXPECT_EQ(b_done[0].imm_data, wr.imm_data);
            }
            EXPECT_EQ(b_done[0].opcode,
                param.opcode == WrOpcode::RdmaWriteWithImm ? WcOpcode::RecvRdmaWithImm : WcOpcode::Recv);
        }
    }
    EXPECT_EQ(a.engine->counters().total_drops(), 0u);
    EXPECT_EQ(b.engine->counters().total_drops(), 0u);
    EXPECT_EQ(a.engine->counters().retries, 0u);
}

INSTANTIATE_TEST_SUITE_P(AllOps, RcTransfer,
    ::testing::Values(Case { WrOpcode::Send, PathMtu::Mtu1024 }, Case { WrOpcode::Send, PathMtu::Mtu4096 },
        Case { WrOpcode::SendWithImm, PathMtu::Mtu1024 }, Case { WrOpcode::SendWithImm, PathMtu::Mtu4096 },
        Case { WrOpcode::RdmaWrite, PathMtu::Mtu1024 }, Case { WrOpcode::RdmaWrite, PathMtu::Mtu4096 },
        Case { WrOpcode::RdmaWriteWithImm, PathMtu::Mtu1024 }, Case { WrOpcode::RdmaWriteWithImm, PathMtu::Mtu4096 },
        Case { WrOpcode::RdmaRead, PathMtu::Mtu1024 }, Case { WrOpcode::RdmaRead, PathMtu::Mtu4096 }));

} // namespace
