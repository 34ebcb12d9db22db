// MemoryRegionTable (what loopback and the simulation check for an rkey) and
// the loopback link's delivery budget.
#include <gtest/gtest.h>
#include <net/rpc/lib/loopback_transport.h>
#include <rpc_test_handlers.h>

using namespace tessera;
using namespace tessera::test;

TEST(RpcMemoryRegion, ResolveChecksKeyAccessAndBounds)
{
    MemoryRegionTable table;
    uint8_t bytes[4096];
    auto region = MUST(table.register_region({ bytes, sizeof(bytes) }, RegionAccessRemoteWrite));
    EXPECT_NE(region.rkey, 0u);
    EXPECT_EQ(region.length, 4096u);
    auto span = MUST(table.resolve(region.address + 100, region.rkey, 200, RegionAccessRemoteWrite));
    EXPECT_EQ(span.data(), bytes + 100);
    EXPECT_EQ(span.size(), 200u);
    EXPECT_EQ(table.resolve(region.address, region.rkey, 1, RegionAccessRemoteRead).error().code(), Errno::ACCES);
    EXPECT_EQ(
        table.resolve(region.address + 4000, region.rkey, 97, RegionAccessRemoteWrite).error().code(), Errno::ACCES);
    EXPECT_EQ(table.resolve(region.address - 1, region.rkey, 1, RegionAccessRemoteWrite).error().code(), Errno::ACCES);
    EXPECT_EQ(
        table.resolve(region.address, region.rkey, SIZE_MAX, RegionAccessRemoteWrite).error().code(), Errno::ACCES);
    EXPECT_EQ(
        table.resolve(region.address, region.rkey ^ 0x100, 1, RegionAccessRemoteWrite).error().code(), Errno::ACCES);
    EXPECT_EQ(table.resolve(region.address, 0, 1, RegionAccessRemoteWrite).error().code(), Errno::ACCES);
}

TEST(RpcMemoryRegion, AnRkeyKeptAfterDeregisterIsStale)
{
    MemoryRegionTable table;
    uint8_t bytes[64];
    auto old_region = MUST(table.register_region({ bytes, sizeof(bytes) }, RegionAccessRemoteRead));
    MUST(table.deregister(old_region.rkey));
    EXPECT_EQ(table.deregister(old_region.rkey).error().code(), Errno::NOENT);
    auto new_region = MUST(table.register_region({ bytes, sizeof(bytes) }, RegionAccessRemoteRead));
    EXPECT_NE(new_region.rkey, old_region.rkey); // same slot, new generation
    EXPECT_EQ(
        table.resolve(old_region.address, old_region.rkey, 1, RegionAccessRemoteRead).error().code(), Errno::ACCES);
    EXPECT_FALSE(table.resolve(new_region.address, new_region.rkey, 1, RegionAccessRemoteRead).is_error());
}

TEST(RpcMemoryRegion, TableFullAndBadArguments)
{
    MemoryRegionTable table;
    uint8_t bytes[MemoryRegionTable::kCapacity + 1];
    for (size_t i = 0; i < MemoryRegionTable::kCapacity; ++i)
        MUST(table.register_region({ bytes + i, 1 }, RegionAccessRemoteRead));
    EXPECT_EQ(table.register_region({ bytes, 1 }, RegionAccessRemoteRead).error().code(), Errno::NOSPC);
    MemoryRegionTable other;
    EXPECT_EQ(other.register_region({}, RegionAccessRemoteRead).error().code(), Errno::INVAL);
    EXPECT_EQ(other.register_region({ bytes, 1 }, 0).error().code(), Errno::INVAL);
}

TEST(RpcLoopbackLink, BudgetBoundsOneRunAndKeepsOrder)
{
    MemoryRegionTable memory;
    LoopbackLink link(memory);
    RpcEndpoint client({ .local_node = 1, .peer_node = 1 }, link.first(), nullptr);
    RpcEndpoint server({ .local_node = 1, .peer_node = 1 }, link.second(), nullptr); // co-located: one node id
    PingHandler ping;
    MUST(server.register_handler(Opcode::X2X_PING, ping));
    RecordingCompletion done;
    for (int i = 0; i < 4; ++i) {
        auto request = make_ping(i);
        MUST(client.call(Opcode::X2X_PING, bytes_of(request), done, 0));
    }
    EXPECT_EQ(link.run(0, 3), 3u); // three requests served, one left
    EXPECT_EQ(ping.performed, 3u);
    EXPECT_FALSE(link.idle());
    link.run(0);
    EXPECT_TRUE(link.idle());
    ASSERT_EQ(done.results.size(), 4u);
    for (size_t i = 0; i < 4; ++i)
        EXPECT_EQ(done.results[i].request_id, i + 1); // in order
}
