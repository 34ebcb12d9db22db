// What the kernel provides to portable code, provided again for host tests.
#include <kernel/lib/assert.h>

#include <cstdio>
#include <cstdlib>

namespace tessera {

[[noreturn]] void verify_failed(const char* expression, const char* file, int line)
{
    std::fprintf(stderr, "VERIFY(%s) failed at %s:%d\n", expression, file, line);
    std::abort();
}

} // namespace tessera
