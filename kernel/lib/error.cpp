#include <kernel/lib/error.h>

namespace tessera {

const char* errno_name(Errno code)
{
    switch (code) {
#define TESSERA_ERRNO_NAME(name)                                                                                       \
    case Errno::name:                                                                                                  \
        return "E" #name;
        TESSERA_ERRNO_NAME(PERM)
        TESSERA_ERRNO_NAME(NOENT)
        TESSERA_ERRNO_NAME(SRCH)
        TESSERA_ERRNO_NAME(INTR)
        TESSERA_ERRNO_NAME(IO)
        TESSERA_ERRNO_NAME(NXIO)
    case Errno::ARG_LIST_TOO_BIG:
        return "E2BIG";
        TESSERA_ERRNO_NAME(NOEXEC)
        TESSERA_ERRNO_NAME(BADF)
        TESSERA_ERRNO_NAME(AGAIN)
        TESSERA_ERRNO_NAME(NOMEM)
        TESSERA_ERRNO_NAME(ACCES)
        TESSERA_ERRNO_NAME(FAULT)
        TESSERA_ERRNO_NAME(BUSY)
        TESSERA_ERRNO_NAME(EXIST)
        TESSERA_ERRNO_NAME(NODEV)
        TESSERA_ERRNO_NAME(INVAL)
        TESSERA_ERRNO_NAME(NOSPC)
        TESSERA_ERRNO_NAME(RANGE)
        TESSERA_ERRNO_NAME(NAMETOOLONG)
        TESSERA_ERRNO_NAME(NOSYS)
        TESSERA_ERRNO_NAME(OVERFLOW)
        TESSERA_ERRNO_NAME(MSGSIZE)
        TESSERA_ERRNO_NAME(PROTO)
        TESSERA_ERRNO_NAME(TIMEDOUT)
#undef TESSERA_ERRNO_NAME
    }
    return "E?";
}

} // namespace tessera
