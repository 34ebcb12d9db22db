#pragma once
// Memory a device reads and writes by DMA: physically contiguous whole
// pages, reached by the kernel through the physmap. Freed with the object.

#include <kernel/lib/error_or.h>
#include <kernel/lib/kstd.h>

namespace tessera {

class OwnDma {
public:
    OwnDma() = default;
    OwnDma(const OwnDma&) = delete;
    OwnDma& operator=(const OwnDma&) = delete;
    ~OwnDma();

    // Zeroed, at least `bytes` long. ENOMEM when no contiguous run is free.
    ErrorOr<void> allocate(size_t bytes);

    uint8_t* data() const { return m_data; }
    uint64_t physical() const { return m_physical; }
    size_t size() const { return m_pages * 4096; }

private:
    uint8_t* m_data { nullptr };
    uint64_t m_physical { 0 };
    size_t m_pages { 0 };
};

} // namespace tessera
