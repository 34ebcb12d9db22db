// virtio-net's device configuration and receive framing
// (drivers/virtio/lib/virtio_net_config.h).
#include <drivers/virtio/lib/virtio_net_config.h>

#include <gtest/gtest.h>

#include <vector>

using namespace tessera;

namespace {

std::vector<uint8_t> config_with(uint16_t mtu)
{
    // 52:54:00:12:34:56, status 1, 1 queue pair, mtu little-endian.
    return { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 1, 0, 1, 0, static_cast<uint8_t>(mtu),
        static_cast<uint8_t>(mtu >> 8) };
}

const MacAddress fallback = virtio_net_fallback_mac(0, 3, 0);

TEST(VirtioNetConfig, MacAndMtuFromTheDevice)
{
    auto bytes = config_with(9000);
    auto settings = MUST(virtio_net_settings(Span<const uint8_t>(bytes.data(), bytes.size()),
        virtio_feature::version_1 | virtio_feature::net_mac | virtio_feature::net_mtu, fallback));
    EXPECT_TRUE(settings.mac_from_device);
    EXPECT_EQ(settings.mac, (MacAddress { { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } }));
    EXPECT_EQ(settings.mtu, 9000u);
}

TEST(VirtioNetConfig, Defaults)
{
    auto bytes = config_with(9000);
    // Without F_MTU the config's mtu field means nothing: 1500. Without F_MAC, the fallback.
    auto settings = MUST(
        virtio_net_settings(Span<const uint8_t>(bytes.data(), bytes.size()), virtio_feature::version_1, fallback));
    EXPECT_FALSE(settings.mac_from_device);
    EXPECT_EQ(settings.mac, fallback);
    EXPECT_EQ(settings.mac.octets[0] & 3, 2); // locally administered unicast
    EXPECT_NE(virtio_net_fallback_mac(0, 3, 0), virtio_net_fallback_mac(0, 4, 0));
    EXPECT_EQ(settings.mtu, 1500u);
}

TEST(VirtioNetConfig, BadMtus)
{
    auto small = config_with(67);
    EXPECT_TRUE(virtio_net_settings(Span<const uint8_t>(small.data(), small.size()), virtio_feature::net_mtu, fallback)
                    .is_error());
    auto huge = config_with(65535);
    EXPECT_EQ(
        MUST(virtio_net_settings(Span<const uint8_t>(huge.data(), huge.size()), virtio_feature::net_mtu, fallback)).mtu,
        virtio_net_max_mtu);
    EXPECT_TRUE(virtio_net_settings(Span<const uint8_t>(small.data(), 11), 0, fallback).is_error());
}

TEST(VirtioNetConfig, ReceivedFrameBounds)
{
    std::vector<uint8_t> buffer(virtio_net_receive_buffer_bytes(1500));
    EXPECT_EQ(buffer.size(), 12u + 14 + 4 + 1500);
    Span<const uint8_t> span(buffer.data(), buffer.size());
    auto frame = MUST(virtio_net_received_frame(span, 12 + 60, 1500));
    EXPECT_EQ(frame.size(), 60u);
    EXPECT_EQ(frame.data(), buffer.data() + 12);
    EXPECT_FALSE(virtio_net_received_frame(span, 12 + 1514, 1500).is_error());
    EXPECT_TRUE(virtio_net_received_frame(span, 12 + 13, 1500).is_error()); // no Ethernet header
    EXPECT_TRUE(virtio_net_received_frame(span, static_cast<uint32_t>(buffer.size() + 1), 1500).is_error());
    EXPECT_TRUE(virtio_net_received_frame(span, 12 + 1514 + 5, 1500).is_error());
}

} // namespace
