// The split virtqueue (drivers/virtio/lib/split_virtqueue.h) against a fake
// device that reads the available ring and writes the used ring in the same
// memory, as a real device does by DMA, and can be told to lie.
#include <drivers/virtio/lib/split_virtqueue.h>

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

using namespace tessera;

namespace {

// Device side: the ring memory seen through the spec's layout.
class FakeDevice {
public:
    FakeDevice(uint16_t size, uint8_t* memory)
        : m_size(size)
        , m_memory(memory)
        , m_layout(MUST(virtqueue_layout(size)))
    {
    }

    uint16_t available_index() const { return read16(m_layout.available_offset + 2); }
    VirtqDescriptor descriptor(uint16_t index) const
    {
        VirtqDescriptor d;
        std::memcpy(&d, m_memory + m_layout.descriptors_offset + 16u * index, 16);
        return d;
    }
    // Takes the next available head, if any.
    bool take_available(uint16_t& head)
    {
        if (m_seen == available_index())
            return false;
        head = read16(m_layout.available_offset + 4 + 2u * (m_seen % m_size));
        ++m_seen;
        return true;
    }
    // Completes `id` with `length`, as the device would (any values: a test may lie).
    void complete(uint32_t id, uint32_t length)
    {
        size_t slot = m_layout.used_offset + 4 + 8u * (m_used % m_size);
        std::memcpy(m_memory + slot, &id, 4);
        std::memcpy(m_memory + slot + 4, &length, 4);
        ++m_used;
        write16(m_layout.used_offset + 2, m_used);
    }
    void set_used_index(uint16_t index) { write16(m_layout.used_offset + 2, index); }
    void set_used_flags(uint16_t flags) { write16(m_layout.used_offset, flags); }

private:
    uint16_t read16(size_t offset) const
    {
        uint16_t v;
        std::memcpy(&v, m_memory + offset, 2);
        return v;
    }
    void write16(size_t offset, uint16_t value) { std::memcpy(m_memory + offset, &value, 2); }

    uint16_t m_size;
    uint8_t* m_memory;
    VirtqueueLayout m_layout;
    uint16_t m_seen { 0 };
    uint16_t m_used { 0 };
};

struct Fixture {
    explicit Fixture(uint16_t size)
        : memory(MUST(virtqueue_layout(size)).total_bytes, 0xa5)
        , queue(size, memory.data())
        , device(size, memory.data())
    {
    }
    std::vector<uint8_t> memory;
    SplitVirtqueue queue;
    FakeDevice device;
};

VirtqSegment writable(uint64_t address, uint32_t length) { return { address, length, true }; }
VirtqSegment readable(uint64_t address, uint32_t length) { return { address, length, false }; }

TEST(VirtioVirtqueue, LayoutFollowsTheSpec)
{
    auto layout = MUST(virtqueue_layout(256));
    EXPECT_EQ(layout.descriptors_offset, 0u);
    EXPECT_EQ(layout.available_offset, 4096u);
    EXPECT_EQ(layout.used_offset % 4, 0u);
    EXPECT_GE(layout.used_offset, 4096u + 6 + 512);
    EXPECT_EQ(layout.total_bytes, layout.used_offset + 6 + 8 * 256);
    EXPECT_TRUE(virtqueue_layout(0).is_error());
    EXPECT_TRUE(virtqueue_layout(3).is_error());
    EXPECT_TRUE(virtqueue_layout(512).is_error());
}

TEST(VirtioVirtqueue, SubmitPublishesDescriptorAndIndex)
{
    Fixture f(8);
    VirtqSegment segments[] = { writable(0x1000, 1526) };
    uint16_t head = MUST(f.queue.submit(Span<const VirtqSegment>(segments)));
    EXPECT_EQ(f.device.available_index(), 1);
    uint16_t seen;
    ASSERT_TRUE(f.device.take_available(seen));
    EXPECT_EQ(seen, head);
    auto d = f.device.descriptor(head);
    EXPECT_EQ(d.address, 0x1000u);
    EXPECT_EQ(d.length, 1526u);
    EXPECT_EQ(d.flags, virtq_descriptor_flag::write);
    EXPECT_EQ(f.queue.free_count(), 7);
}

TEST(VirtioVirtqueue, ChainsLinkWithNextAndComeBackWhole)
{
    Fixture f(8);
    VirtqSegment segments[] = { readable(0x1000, 12), readable(0x2000, 60), writable(0x3000, 100) };
    uint16_t head = MUST(f.queue.submit(Span<const VirtqSegment>(segments)));
    auto first = f.device.descriptor(head);
    EXPECT_EQ(first.flags, virtq_descriptor_flag::next);
    auto second = f.device.descriptor(first.next);
    EXPECT_EQ(second.address, 0x2000u);
    auto third = f.device.descriptor(second.next);
    EXPECT_EQ(third.flags, virtq_descriptor_flag::write);
    EXPECT_EQ(f.queue.free_count(), 5);
    f.device.complete(head, 100);
    auto done = MUST(f.queue.take_completion());
    ASSERT_TRUE(done.has_value());
    EXPECT_EQ(done.value().head, head);
    EXPECT_EQ(done.value().written, 100u);
    EXPECT_EQ(f.queue.free_count(), 8);
}

TEST(VirtioVirtqueue, FullRingIsNoSpaceAndRecovers)
{
    Fixture f(4);
    VirtqSegment one[] = { readable(0x1000, 64) };
    uint16_t heads[4];
    for (auto& head : heads)
        head = MUST(f.queue.submit(Span<const VirtqSegment>(one)));
    auto full = f.queue.submit(Span<const VirtqSegment>(one));
    ASSERT_TRUE(full.is_error());
    EXPECT_EQ(full.error().code(), Errno::NOSPC);
    VirtqSegment two[] = { readable(0x1000, 64), readable(0x2000, 64) };
    f.device.complete(heads[2], 0);
    EXPECT_TRUE(MUST(f.queue.take_completion()).has_value());
    EXPECT_EQ(f.queue.submit(Span<const VirtqSegment>(two)).error().code(), Errno::NOSPC);
    EXPECT_FALSE(f.queue.submit(Span<const VirtqSegment>(one)).is_error());
    EXPECT_TRUE(f.queue.submit(Span<const VirtqSegment>()).is_error());
}

TEST(VirtioVirtqueue, IndicesWrapPast65535)
{
    // 70000 round trips through a ring of 4: both free-running indices wrap,
    // slots stay index % size, and every completion matches its submission.
    Fixture f(4);
    for (uint32_t round = 0; round < 70000; ++round) {
        VirtqSegment one[] = { writable(0x1000 + round, 200) };
        uint16_t head = MUST(f.queue.submit(Span<const VirtqSegment>(one)));
        uint16_t seen;
        ASSERT_TRUE(f.device.take_available(seen));
        ASSERT_EQ(seen, head);
        ASSERT_EQ(f.device.descriptor(seen).address, 0x1000u + round);
        f.device.complete(seen, round % 201);
        auto done = MUST(f.queue.take_completion());
        ASSERT_TRUE(done.has_value());
        ASSERT_EQ(done.value().written, round % 201);
        ASSERT_FALSE(MUST(f.queue.take_completion()).has_value());
    }
    EXPECT_EQ(f.queue.free_count(), 4);
}

TEST(VirtioVirtqueue, OutOfOrderCompletions)
{
    Fixture f(8);
    VirtqSegment one[] = { writable(0x1000, 64) };
    uint16_t a = MUST(f.queue.submit(Span<const VirtqSegment>(one)));
    uint16_t b = MUST(f.queue.submit(Span<const VirtqSegment>(one)));
    f.device.complete(b, 1);
    f.device.complete(a, 2);
    EXPECT_EQ(MUST(f.queue.take_completion()).value().head, b);
    EXPECT_EQ(MUST(f.queue.take_completion()).value().head, a);
    EXPECT_EQ(f.queue.free_count(), 8);
}

// The device is input from outside: each lie must break the queue, never
// corrupt the free list or read out of bounds.
TEST(VirtioVirtqueue, IdOutOfRangeIsRefused)
{
    Fixture f(8);
    VirtqSegment one[] = { writable(0x1000, 64) };
    MUST(f.queue.submit(Span<const VirtqSegment>(one)));
    f.device.complete(8, 0); // length 0, so only the id check can catch it
    auto result = f.queue.take_completion();
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), Errno::IO);
    EXPECT_TRUE(f.queue.broken());
    EXPECT_TRUE(f.queue.submit(Span<const VirtqSegment>(one)).is_error());
}

TEST(VirtioVirtqueue, IdNotInFlightIsRefused)
{
    Fixture f(8);
    VirtqSegment one[] = { writable(0x1000, 64) };
    uint16_t head = MUST(f.queue.submit(Span<const VirtqSegment>(one)));
    uint16_t other = static_cast<uint16_t>((head + 1) % 8);
    f.device.complete(other, 0);
    EXPECT_TRUE(f.queue.take_completion().is_error());
}

TEST(VirtioVirtqueue, SameIdTwiceIsRefused)
{
    Fixture f(8);
    VirtqSegment one[] = { writable(0x1000, 64) };
    uint16_t head = MUST(f.queue.submit(Span<const VirtqSegment>(one)));
    MUST(f.queue.submit(Span<const VirtqSegment>(one)));
    f.device.complete(head, 0);
    f.device.complete(head, 0);
    EXPECT_TRUE(MUST(f.queue.take_completion()).has_value());
    EXPECT_TRUE(f.queue.take_completion().is_error());
}

TEST(VirtioVirtqueue, LengthPastTheBufferIsRefused)
{
    Fixture f(8);
    VirtqSegment chain[] = { readable(0x1000, 500), writable(0x2000, 64) };
    uint16_t head = MUST(f.queue.submit(Span<const VirtqSegment>(chain)));
    f.device.complete(head, 65); // only the 64 writable bytes count
    EXPECT_TRUE(f.queue.take_completion().is_error());
}

TEST(VirtioVirtqueue, UsedIndexPastWhatIsInFlightIsRefused)
{
    Fixture f(8);
    VirtqSegment one[] = { writable(0x1000, 64) };
    MUST(f.queue.submit(Span<const VirtqSegment>(one)));
    f.device.set_used_index(2); // two completions for one buffer
    EXPECT_TRUE(f.queue.take_completion().is_error());
}

TEST(VirtioVirtqueue, NotificationSuppressionFlag)
{
    Fixture f(8);
    EXPECT_TRUE(f.queue.device_wants_notification());
    f.device.set_used_flags(1);
    EXPECT_FALSE(f.queue.device_wants_notification());
}

} // namespace
