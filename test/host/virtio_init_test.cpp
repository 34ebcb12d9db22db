// Device initialisation over the common configuration
// (drivers/virtio/lib/virtio_common_config.h) against a simulated device that
// keeps its registers like QEMU's: feature windows behind select registers,
// per-queue registers behind queue_select, a status that can refuse
// FEATURES_OK and MSI-X vectors it may not take.
#include <drivers/virtio/lib/virtio_common_config.h>
#include <drivers/virtio/lib/virtio_net_config.h>

#include <gtest/gtest.h>

#include <vector>

using namespace tessera;

namespace {

class FakeCommonConfig final : public VirtioCommonConfig {
public:
    struct Queue {
        uint16_t max_size;
        uint16_t size { 0 };
        uint16_t vector { virtio_msi_no_vector };
        uint16_t enable { 0 };
        uint64_t desc { 0 }, driver { 0 }, device { 0 };
    };

    uint64_t offered { virtio_feature::version_1 | virtio_feature::net_mac | virtio_feature::net_mtu | (1ull << 15)
        | (1ull << 29) };
    uint64_t driver_features { 0 };
    bool refuse_features_ok { false };
    uint16_t vectors { 2 }; // MSI-X entries; 0 = none
    uint8_t status { 0 };
    std::vector<uint8_t> status_writes;
    std::vector<Queue> queues { Queue { 256 }, Queue { 256 } };
    uint16_t config_vector { virtio_msi_no_vector };

    uint8_t read8(uint32_t offset) override { return offset == virtio_common::device_status ? status : 0; }
    uint16_t read16(uint32_t offset) override
    {
        switch (offset) {
        case virtio_common::num_queues:
            return static_cast<uint16_t>(queues.size());
        case virtio_common::msix_config:
            return config_vector;
        case virtio_common::queue_select:
            return m_select;
        case virtio_common::queue_size:
            return queue() ? queue()->max_size : 0;
        case virtio_common::queue_msix_vector:
            return queue() ? queue()->vector : virtio_msi_no_vector;
        case virtio_common::queue_notify_off:
            return m_select;
        case virtio_common::queue_enable:
            return queue() ? queue()->enable : 0;
        }
        return 0;
    }
    uint32_t read32(uint32_t offset) override
    {
        if (offset == virtio_common::device_feature)
            return static_cast<uint32_t>(m_feature_select == 0 ? offered : m_feature_select == 1 ? offered >> 32 : 0);
        return 0;
    }
    void write8(uint32_t offset, uint8_t value) override
    {
        if (offset != virtio_common::device_status)
            return;
        status_writes.push_back(value);
        if (value == 0) {
            status = 0;
            driver_features = 0;
            return;
        }
        if ((value & virtio_status::features_ok) && !(status & virtio_status::features_ok) && refuse_features_ok)
            value &= static_cast<uint8_t>(~virtio_status::features_ok);
        status = value;
    }
    void write16(uint32_t offset, uint16_t value) override
    {
        switch (offset) {
        case virtio_common::queue_select:
            m_select = value;
            break;
        case virtio_common::msix_config:
            config_vector = value < vectors ? value : virtio_msi_no_vector;
            break;
        case virtio_common::queue_size:
            if (queue())
                queue()->size = value;
            break;
        case virtio_common::queue_msix_vector:
            if (queue())
                queue()->vector = value < vectors ? value : virtio_msi_no_vector;
            break;
        case virtio_common::queue_enable:
            if (queue())
                queue()->enable = value;
            break;
        }
    }
    void write32(uint32_t offset, uint32_t value) override
    {
        auto set64 = [&](uint64_t& field, uint32_t base) {
            if (offset == base)
                field = (field & ~0xffff'ffffull) | value;
            else if (offset == base + 4)
                field = (field & 0xffff'ffffull) | uint64_t { value } << 32;
        };
        if (offset == virtio_common::device_feature_select)
            m_feature_select = value;
        else if (offset == virtio_common::driver_feature_select)
            m_driver_select = value;
        else if (offset == virtio_common::driver_feature) {
            if (m_driver_select == 0)
                driver_features = (driver_features & ~0xffff'ffffull) | value;
            else if (m_driver_select == 1)
                driver_features = (driver_features & 0xffff'ffffull) | uint64_t { value } << 32;
        } else if (queue()) {
            set64(queue()->desc, virtio_common::queue_desc);
            set64(queue()->driver, virtio_common::queue_driver);
            set64(queue()->device, virtio_common::queue_device);
        }
    }

private:
    Queue* queue() { return m_select < queues.size() ? &queues[m_select] : nullptr; }
    uint32_t m_feature_select { 0 };
    uint32_t m_driver_select { 0 };
    uint16_t m_select { 0 };
};

TEST(VirtioInit, HandshakeInOrderAcceptsOnlyWhatIsSupported)
{
    FakeCommonConfig device;
    device.status = virtio_status::driver_ok; // left over from a previous driver
    uint64_t accepted = MUST(virtio_negotiate(device, virtio_net_supported_features, virtio_net_required_features));
    EXPECT_EQ(accepted, virtio_feature::version_1 | virtio_feature::net_mac | virtio_feature::net_mtu);
    EXPECT_EQ(device.driver_features, accepted); // bits 15 (MRG_RXBUF) and 29 declined
    std::vector<uint8_t> expected { 0, virtio_status::acknowledge, virtio_status::acknowledge | virtio_status::driver,
        virtio_status::acknowledge | virtio_status::driver | virtio_status::features_ok };
    EXPECT_EQ(device.status_writes, expected);
    virtio_driver_ok(device);
    EXPECT_EQ(device.status, 0x0f);
}

TEST(VirtioInit, MissingVersion1FailsTheDevice)
{
    FakeCommonConfig device;
    device.offered = virtio_feature::net_mac; // a legacy-only device
    auto result = virtio_negotiate(device, virtio_net_supported_features, virtio_net_required_features);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), Errno::NODEV);
    EXPECT_TRUE(device.status & virtio_status::failed);
    EXPECT_FALSE(device.status & virtio_status::features_ok);
}

TEST(VirtioInit, RefusedFeaturesOkFailsTheDevice)
{
    FakeCommonConfig device;
    device.refuse_features_ok = true;
    auto result = virtio_negotiate(device, virtio_net_supported_features, virtio_net_required_features);
    ASSERT_TRUE(result.is_error());
    EXPECT_TRUE(device.status & virtio_status::failed);
}

TEST(VirtioInit, QueueSetupCapsSizeAndProgramsAddresses)
{
    FakeCommonConfig device;
    VirtioQueueSetup setup { 1, 128, 1 };
    auto info = MUST(virtio_queue_query(device, setup));
    EXPECT_EQ(info.size, 128);
    EXPECT_EQ(info.notify_off, 1);
    MUST(virtio_queue_enable(device, setup, info, { 0x1'2345'6000, 0x1'2345'7000, 0x2'0000'0004 }));
    EXPECT_EQ(device.queues[1].size, 128);
    EXPECT_EQ(device.queues[1].desc, 0x1'2345'6000u);
    EXPECT_EQ(device.queues[1].driver, 0x1'2345'7000u);
    EXPECT_EQ(device.queues[1].device, 0x2'0000'0004u);
    EXPECT_EQ(device.queues[1].vector, 1);
    EXPECT_EQ(device.queues[1].enable, 1);
    EXPECT_EQ(device.queues[0].enable, 0);
    // A device queue smaller than the driver's limit wins.
    device.queues[0].max_size = 64;
    EXPECT_EQ(MUST(virtio_queue_query(device, { 0, 128, 0 })).size, 64);
}

TEST(VirtioInit, BadQueuesAreRefused)
{
    FakeCommonConfig device;
    EXPECT_EQ(virtio_queue_query(device, { 2, 128, 0 }).error().code(), Errno::NOENT);
    device.queues[0].max_size = 0;
    EXPECT_EQ(virtio_queue_query(device, { 0, 128, 0 }).error().code(), Errno::NOENT);
    device.queues[0].max_size = 100;
    EXPECT_EQ(virtio_queue_query(device, { 0, 128, 0 }).error().code(), Errno::INVAL);
}

TEST(VirtioInit, RefusedVectorIsAnError)
{
    FakeCommonConfig device;
    device.vectors = 1;
    VirtioQueueSetup setup { 1, 128, 1 };
    auto info = MUST(virtio_queue_query(device, setup));
    EXPECT_EQ(virtio_queue_enable(device, setup, info, { 0, 0, 0 }).error().code(), Errno::IO);
    EXPECT_EQ(device.queues[1].enable, 0);
    EXPECT_EQ(virtio_set_config_vector(device, 1).error().code(), Errno::IO);
    MUST(virtio_set_config_vector(device, 0));
    // INTx: no vector is what the device must keep.
    MUST(virtio_queue_enable(device, { 0, 128, virtio_msi_no_vector }, info, { 0, 0, 0 }));
}

} // namespace
