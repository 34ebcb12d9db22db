#pragma once
// The driver side of a split virtqueue. [virtio 1.1]: 2.6 "Split
// Virtqueues": a descriptor table (16 bytes each), the available ring the
// driver fills (flags, idx, ring[size]) and the used ring the device fills
// (flags, idx, {id, len}[size]). Indices are free-running 16-bit counters;
// a ring slot is the index modulo the size (a power of two).
//
// The used ring is written by the device, so it is input from outside: an
// idx that claims more entries than the ring holds, an id that is no head
// of a chain we posted, or a length beyond what the chain can hold is
// refused with EIO and the queue stops working (broken()): the driver then
// reports the device FAILED rather than trust anything more from it.
//
// The class keeps no pointers it does not own: the ring memory is the
// caller's (DMA memory in the kernel, a plain array in host tests), and no
// locking is done here: one thread, or the caller's lock, at a time.

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>
#include <kernel/lib/optional.h>
#include <kernel/lib/span.h>

namespace tessera {

struct VirtqDescriptor {
    uint64_t address;
    uint32_t length;
    uint16_t flags;
    uint16_t next;
};
static_assert(sizeof(VirtqDescriptor) == 16);

namespace virtq_descriptor_flag {
constexpr uint16_t next = 1;
constexpr uint16_t write = 2; // device-writable (a receive buffer)
} // namespace virtq_descriptor_flag

struct VirtqUsedElement {
    uint32_t id;
    uint32_t length;
};
static_assert(sizeof(VirtqUsedElement) == 8);

// Bookkeeping is inline, so the largest queue this driver uses is fixed.
constexpr uint16_t virtqueue_max_size = 256;

// Where the three parts sit in one contiguous block, and its size.
struct VirtqueueLayout {
    size_t descriptors_offset;
    size_t available_offset;
    size_t used_offset;
    size_t total_bytes;
};
// EINVAL unless `size` is a power of two in 1..virtqueue_max_size.
ErrorOr<VirtqueueLayout> virtqueue_layout(uint16_t size);

// One buffer of a chain: a device address and length, and whether the
// device writes it.
struct VirtqSegment {
    uint64_t address;
    uint32_t length;
    bool device_writable;
};

// A buffer the device has finished with: the head descriptor of its chain
// and how many bytes it wrote (checked against the chain's writable bytes).
struct VirtqCompletion {
    uint16_t head;
    uint32_t written;
};

class SplitVirtqueue {
public:
    // `memory` holds virtqueue_layout(size).total_bytes, zeroed or not.
    SplitVirtqueue(uint16_t size, void* memory);

    uint16_t size() const { return m_size; }
    uint16_t free_count() const { return m_free_count; }
    bool broken() const { return m_broken; }
    // The head the next submit() will return (meaningful while free_count() > 0),
    // so a caller can fill the buffer that belongs to that descriptor first.
    uint16_t next_free_head() const { return m_free_head; }

    // Posts a chain of `segments` and makes it available to the device.
    // ENOSPC: fewer free descriptors than segments. EINVAL: no segments. EIO:
    // the queue is broken. Returns the head descriptor's index (the id the
    // device will hand back). The caller notifies the device afterwards.
    ErrorOr<uint16_t> submit(Span<const VirtqSegment> segments);

    // The next completed chain, or none. EIO (and broken()) when the device
    // wrote an impossible used entry. The chain's descriptors are free again.
    ErrorOr<Optional<VirtqCompletion>> take_completion();

    // The device asked not to be notified (used ring flag 1).
    bool device_wants_notification() const;

    // Device addresses of the parts, given the block's device address.
    size_t descriptors_offset() const { return m_layout.descriptors_offset; }
    size_t available_offset() const { return m_layout.available_offset; }
    size_t used_offset() const { return m_layout.used_offset; }

private:
    VirtqDescriptor* descriptor(uint16_t index) const;
    uint16_t* available_header() const; // flags, idx
    uint16_t* available_ring() const;
    uint16_t* used_header() const;
    VirtqUsedElement* used_ring() const;
    Error fail(const char* why);

    uint8_t* m_memory;
    uint16_t m_size;
    VirtqueueLayout m_layout {};
    uint16_t m_free_head { 0 };
    uint16_t m_free_count { 0 };
    uint16_t m_available_index { 0 }; // our copy of avail->idx
    uint16_t m_last_used { 0 }; // the next used entry to consume
    bool m_broken { false };
    // The free list and chains, kept here rather than in descriptor memory
    // the device can write.
    uint16_t m_next[virtqueue_max_size] {};
    // Per head: chain length (0: not in flight) and device-writable bytes.
    uint16_t m_chain_length[virtqueue_max_size] {};
    uint32_t m_writable_bytes[virtqueue_max_size] {};
};

} // namespace tessera
