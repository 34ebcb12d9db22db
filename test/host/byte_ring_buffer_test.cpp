#include <kernel/lib/byte_ring_buffer.h>

#include <gtest/gtest.h>

#include <random>
#include <string>

using namespace tessera;

namespace {

template<typename Ring>
std::string read_all(Ring& ring)
{
    std::string out(ring.size(), '\0');
    size_t count = ring.read(Span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size()));
    out.resize(count);
    return out;
}

template<typename Ring>
size_t write(Ring& ring, const std::string& text)
{
    return ring.write(text.data(), text.size());
}

TEST(ByteRingBuffer, WritesAndReadsAcrossTheWrap)
{
    ByteRingBuffer<8> ring;
    EXPECT_EQ(write(ring, "abcdef"), 6u);
    EXPECT_EQ(read_all(ring), "abcdef");
    EXPECT_EQ(write(ring, "ghijkl"), 6u); // starts at 6, wraps after 2
    EXPECT_EQ(ring.size(), 6u);
    uint8_t two[2];
    EXPECT_EQ(ring.peek(Span<uint8_t>(two), 1), 2u);
    EXPECT_EQ(two[0], 'h');
    EXPECT_EQ(two[1], 'i');
    EXPECT_EQ(read_all(ring), "ghijkl");
    EXPECT_EQ(ring.dropped(), 0u);
}

TEST(ByteRingBuffer, OverwriteOldestKeepsTheNewestAndCountsTheLoss)
{
    ByteRingBuffer<8, WhenFull::OverwriteOldest> log;
    write(log, "12345");
    EXPECT_EQ(write(log, "6789"), 4u);
    EXPECT_EQ(log.dropped(), 1u);
    EXPECT_EQ(read_all(log), "23456789");
    write(log, "abc");
    EXPECT_EQ(write(log, "0123456789ABCDEF"), 8u); // longer than the ring
    EXPECT_EQ(log.dropped(), 1u + 3u + 8u);
    EXPECT_EQ(read_all(log), "89ABCDEF");
}

TEST(ByteRingBuffer, DropNewestKeepsThePrefixAndCountsTheLoss)
{
    ByteRingBuffer<8, WhenFull::DropNewest> stream;
    write(stream, "12345");
    EXPECT_EQ(write(stream, "6789"), 3u);
    EXPECT_EQ(stream.dropped(), 1u);
    EXPECT_EQ(write(stream, "x"), 0u);
    EXPECT_EQ(stream.dropped(), 2u);
    EXPECT_EQ(read_all(stream), "12345678");
}

TEST(ByteRingBuffer, DiscardAndEmptyReads)
{
    ByteRingBuffer<4> ring;
    uint8_t byte;
    EXPECT_EQ(ring.read(Span<uint8_t>(&byte, 1)), 0u);
    EXPECT_EQ(ring.read(Span<uint8_t>()), 0u);
    write(ring, "abc");
    ring.discard(2);
    EXPECT_EQ(read_all(ring), "c");
    ring.discard(100);
    EXPECT_TRUE(ring.is_empty());
}

TEST(ByteRingBuffer, RandomChunksMatchAReferenceString)
{
    ByteRingBuffer<64, WhenFull::OverwriteOldest> log;
    std::string model;
    uint64_t dropped = 0;
    std::mt19937 random(99);
    char next = 'a';
    for (int step = 0; step < 5000; ++step) {
        if (random() % 3 != 0) {
            std::string chunk(random() % 40, '\0');
            for (auto& c : chunk)
                c = next = next == 'z' ? 'a' : static_cast<char>(next + 1);
            write(log, chunk);
            model += chunk;
            if (model.size() > 64) {
                dropped += model.size() - 64;
                model.erase(0, model.size() - 64);
            }
        } else {
            std::string out(random() % 50, '\0');
            size_t count = log.read(Span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size()));
            out.resize(count);
            ASSERT_EQ(out, model.substr(0, count));
            model.erase(0, count);
        }
        ASSERT_EQ(log.size(), model.size());
        ASSERT_EQ(log.dropped(), dropped);
    }
}

} // namespace
