#include <kernel/lib/string_view.h>

namespace tessera {

size_t string_length(const char* s)
{
    size_t n = 0;
    while (s[n] != '\0')
        ++n;
    return n;
}

} // namespace tessera
