#include <arch/paging.h>
#include <drivers/virtio/virtio_dma.h>
#include <kernel/memory/physical.h>

namespace tessera {

ErrorOr<void> OwnDma::allocate(size_t bytes)
{
    VERIFY(m_data == nullptr);
    size_t pages = (bytes + 4095) / 4096;
    m_physical = TRY(allocate_physical_pages(pages));
    m_pages = pages;
    m_data = static_cast<uint8_t*>(arch::physical_to_virtual(m_physical));
    __builtin_memset(m_data, 0, pages * 4096);
    return {};
}

OwnDma::~OwnDma()
{
    if (m_data != nullptr)
        MUST(free_physical_pages(m_physical, m_pages));
}

} // namespace tessera
