#include <drivers/virtio/lib/split_virtqueue.h>
#include <kernel/lib/assert.h>

namespace tessera {

namespace {

constexpr uint16_t used_flag_no_notify = 1;

size_t align_up(size_t value, size_t alignment) { return (value + alignment - 1) & ~(alignment - 1); }

uint16_t load_acquire(uint16_t* field) { return kstd::atomic_ref<uint16_t>(*field).load(kstd::memory_order_acquire); }

} // namespace

ErrorOr<VirtqueueLayout> virtqueue_layout(uint16_t size)
{
    if (size == 0 || size > virtqueue_max_size || (size & (size - 1)) != 0)
        return Error(Errno::INVAL, "virtqueue: size not a power of two up to 256");
    VirtqueueLayout layout {};
    layout.descriptors_offset = 0;
    // [virtio 1.1]: 2.6 "Split Virtqueues": alignment 16, 2 and 4.
    layout.available_offset = sizeof(VirtqDescriptor) * size;
    size_t available_bytes = 2 * sizeof(uint16_t) + sizeof(uint16_t) * size + sizeof(uint16_t); // + used_event
    layout.used_offset = align_up(layout.available_offset + available_bytes, 4);
    size_t used_bytes = 2 * sizeof(uint16_t) + sizeof(VirtqUsedElement) * size + sizeof(uint16_t); // + avail_event
    layout.total_bytes = layout.used_offset + used_bytes;
    return layout;
}

SplitVirtqueue::SplitVirtqueue(uint16_t size, void* memory)
    : m_memory(static_cast<uint8_t*>(memory))
    , m_size(size)
{
    m_layout = MUST(virtqueue_layout(size));
    __builtin_memset(m_memory, 0, m_layout.total_bytes);
    for (uint16_t i = 0; i < size; ++i)
        m_next[i] = static_cast<uint16_t>(i + 1);
    m_free_head = 0;
    m_free_count = size;
}

VirtqDescriptor* SplitVirtqueue::descriptor(uint16_t index) const
{
    VERIFY(index < m_size);
    return reinterpret_cast<VirtqDescriptor*>(m_memory + m_layout.descriptors_offset) + index;
}
uint16_t* SplitVirtqueue::available_header() const
{
    return reinterpret_cast<uint16_t*>(m_memory + m_layout.available_offset);
}
uint16_t* SplitVirtqueue::available_ring() const { return available_header() + 2; }
uint16_t* SplitVirtqueue::used_header() const { return reinterpret_cast<uint16_t*>(m_memory + m_layout.used_offset); }
VirtqUsedElement* SplitVirtqueue::used_ring() const
{
    return reinterpret_cast<VirtqUsedElement*>(m_memory + m_layout.used_offset + 2 * sizeof(uint16_t));
}

Error SplitVirtqueue::fail(const char* why)
{
    m_broken = true;
    return Error(Errno::IO, why);
}

ErrorOr<uint16_t> SplitVirtqueue::submit(Span<const VirtqSegment> segments)
{
    if (m_broken)
        return Error(Errno::IO, "virtqueue: broken");
    if (segments.is_empty())
        return Error(Errno::INVAL, "virtqueue: empty chain");
    if (segments.size() > m_free_count)
        return Error(Errno::NOSPC, "virtqueue: ring full");
    uint16_t head = m_free_head;
    uint16_t index = head;
    uint32_t writable = 0;
    for (size_t i = 0; i < segments.size(); ++i) {
        VirtqDescriptor* entry = descriptor(index);
        uint16_t following = m_next[index];
        entry->address = segments[i].address;
        entry->length = segments[i].length;
        entry->flags = segments[i].device_writable ? virtq_descriptor_flag::write : 0;
        if (segments[i].device_writable)
            writable += segments[i].length;
        if (i + 1 < segments.size()) {
            entry->flags |= virtq_descriptor_flag::next;
            entry->next = following;
        }
        index = following;
    }
    // `index` is the descriptor after the chain's last: the new free head.
    m_free_head = index;
    m_free_count = static_cast<uint16_t>(m_free_count - segments.size());
    m_chain_length[head] = static_cast<uint16_t>(segments.size());
    m_writable_bytes[head] = writable;
    available_ring()[m_available_index & (m_size - 1)] = head;
    ++m_available_index;
    // The descriptors and the ring slot must be visible before the index.
    kstd::atomic_ref<uint16_t>(available_header()[1]).store(m_available_index, kstd::memory_order_release);
    return head;
}

ErrorOr<Optional<VirtqCompletion>> SplitVirtqueue::take_completion()
{
    if (m_broken)
        return Error(Errno::IO, "virtqueue: broken");
    uint16_t used_index = load_acquire(&used_header()[1]);
    uint16_t pending = static_cast<uint16_t>(used_index - m_last_used);
    if (pending == 0)
        return Optional<VirtqCompletion> {};
    // More completions than buffers in flight: the device's idx is bogus.
    if (pending > m_size - m_free_count)
        return fail("virtqueue: device's used idx runs past what is in flight");
    VirtqUsedElement* slot = &used_ring()[m_last_used & (m_size - 1)];
    // Read each field once: the device could change it between reads.
    uint32_t id = kstd::atomic_ref<uint32_t>(slot->id).load(kstd::memory_order_relaxed);
    uint32_t written = kstd::atomic_ref<uint32_t>(slot->length).load(kstd::memory_order_relaxed);
    if (id >= m_size || m_chain_length[id] == 0)
        return fail("virtqueue: device returned an id that is not in flight");
    if (written > m_writable_bytes[id])
        return fail("virtqueue: device wrote more than the buffer holds");
    ++m_last_used;
    // Return the chain to the free list: walk it by our own links, never
    // by descriptor memory the device can reach.
    uint16_t head = static_cast<uint16_t>(id);
    uint16_t last = head;
    for (uint16_t i = 1; i < m_chain_length[head]; ++i)
        last = m_next[last];
    m_next[last] = m_free_head;
    m_free_head = head;
    m_free_count = static_cast<uint16_t>(m_free_count + m_chain_length[head]);
    m_chain_length[head] = 0;
    m_writable_bytes[head] = 0;
    return Optional<VirtqCompletion> { VirtqCompletion { head, written } };
}

bool SplitVirtqueue::device_wants_notification() const
{
    kstd::atomic_thread_fence(kstd::memory_order_seq_cst);
    return (load_acquire(&used_header()[0]) & used_flag_no_notify) == 0;
}

} // namespace tessera
