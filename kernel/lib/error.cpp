#include <kernel/lib/error.h>

namespace tessera {

const char* errno_name(Errno code)
{
    switch (code) {
#define TESSERA_ERRNO_CASE(member, value, name)                                                                        \
    case Errno::member:                                                                                                \
        return name;
        TESSERA_ERRNO_LIST(TESSERA_ERRNO_CASE)
#undef TESSERA_ERRNO_CASE
    }
    return "E?";
}

} // namespace tessera
