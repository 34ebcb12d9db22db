#include <net/rdma/lib/memory_region.h>

namespace tessera::rdma {

ErrorOr<Span<uint8_t>> MemoryRegion::resolve(uint64_t address, uint64_t length, uint32_t required_access) const
{
    if ((m_access & required_access) != required_access)
        return Error(Errno::ACCES, "MR: access flag not granted");
    // offset = address - va must not underflow, and offset + length must not
    // pass the end; written so that no step can wrap.
    if (address < m_virtual_address)
        return Error(Errno::FAULT, "MR: address below the region");
    uint64_t offset = address - m_virtual_address;
#if defined(TESSERA_FUZZ_PLANTED_BUG) && TESSERA_FUZZ_PLANTED_BUG
    // Planted for test/fuzz (make fuzz-roce-planted): forgets the length.
    if (offset > m_length)
#else
    if (offset > m_length || length > m_length - offset)
#endif
        return Error(Errno::FAULT, "MR: range past the end of the region");
    if (length == 0)
        return Span<uint8_t>();
    return Span<uint8_t>(m_base + offset, static_cast<size_t>(length));
}

} // namespace tessera::rdma
