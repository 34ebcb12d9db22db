#pragma once
// Errors are Linux errno values, so that the syscall boundary needs no
// translation table and a remote reply's status is the errno itself.

#include <kernel/lib/kstd.h>

namespace tessera {

// Every Linux x86-64 errno (asm-generic/errno-base.h and errno.h; 41 and 58
// are unused there), once:
// X(member, value, "ENAME"). Members drop the leading E so that they never
// collide with <errno.h> macros in host builds: Errno::INVAL is EINVAL (22).
// E2BIG is spelled ARG_LIST_TOO_BIG; aliases (EWOULDBLOCK, EDEADLOCK,
// ENOTSUP) are the same numbers as EAGAIN, EDEADLK and EOPNOTSUPP.
#define TESSERA_ERRNO_LIST(X)                                                                                          \
    X(PERM, 1, "EPERM")                                                                                                \
    X(NOENT, 2, "ENOENT")                                                                                              \
    X(SRCH, 3, "ESRCH")                                                                                                \
    X(INTR, 4, "EINTR")                                                                                                \
    X(IO, 5, "EIO")                                                                                                    \
    X(NXIO, 6, "ENXIO")                                                                                                \
    X(ARG_LIST_TOO_BIG, 7, "E2BIG")                                                                                    \
    X(NOEXEC, 8, "ENOEXEC")                                                                                            \
    X(BADF, 9, "EBADF")                                                                                                \
    X(CHILD, 10, "ECHILD")                                                                                             \
    X(AGAIN, 11, "EAGAIN")                                                                                             \
    X(NOMEM, 12, "ENOMEM")                                                                                             \
    X(ACCES, 13, "EACCES")                                                                                             \
    X(FAULT, 14, "EFAULT")                                                                                             \
    X(NOTBLK, 15, "ENOTBLK")                                                                                           \
    X(BUSY, 16, "EBUSY")                                                                                               \
    X(EXIST, 17, "EEXIST")                                                                                             \
    X(XDEV, 18, "EXDEV")                                                                                               \
    X(NODEV, 19, "ENODEV")                                                                                             \
    X(NOTDIR, 20, "ENOTDIR")                                                                                           \
    X(ISDIR, 21, "EISDIR")                                                                                             \
    X(INVAL, 22, "EINVAL")                                                                                             \
    X(NFILE, 23, "ENFILE")                                                                                             \
    X(MFILE, 24, "EMFILE")                                                                                             \
    X(NOTTY, 25, "ENOTTY")                                                                                             \
    X(TXTBSY, 26, "ETXTBSY")                                                                                           \
    X(FBIG, 27, "EFBIG")                                                                                               \
    X(NOSPC, 28, "ENOSPC")                                                                                             \
    X(SPIPE, 29, "ESPIPE")                                                                                             \
    X(ROFS, 30, "EROFS")                                                                                               \
    X(MLINK, 31, "EMLINK")                                                                                             \
    X(PIPE, 32, "EPIPE")                                                                                               \
    X(DOM, 33, "EDOM")                                                                                                 \
    X(RANGE, 34, "ERANGE")                                                                                             \
    X(DEADLK, 35, "EDEADLK")                                                                                           \
    X(NAMETOOLONG, 36, "ENAMETOOLONG")                                                                                 \
    X(NOLCK, 37, "ENOLCK")                                                                                             \
    X(NOSYS, 38, "ENOSYS")                                                                                             \
    X(NOTEMPTY, 39, "ENOTEMPTY")                                                                                       \
    X(LOOP, 40, "ELOOP")                                                                                               \
    X(NOMSG, 42, "ENOMSG")                                                                                             \
    X(IDRM, 43, "EIDRM")                                                                                               \
    X(CHRNG, 44, "ECHRNG")                                                                                             \
    X(L2NSYNC, 45, "EL2NSYNC")                                                                                         \
    X(L3HLT, 46, "EL3HLT")                                                                                             \
    X(L3RST, 47, "EL3RST")                                                                                             \
    X(LNRNG, 48, "ELNRNG")                                                                                             \
    X(UNATCH, 49, "EUNATCH")                                                                                           \
    X(NOCSI, 50, "ENOCSI")                                                                                             \
    X(L2HLT, 51, "EL2HLT")                                                                                             \
    X(BADE, 52, "EBADE")                                                                                               \
    X(BADR, 53, "EBADR")                                                                                               \
    X(XFULL, 54, "EXFULL")                                                                                             \
    X(NOANO, 55, "ENOANO")                                                                                             \
    X(BADRQC, 56, "EBADRQC")                                                                                           \
    X(BADSLT, 57, "EBADSLT")                                                                                           \
    X(BFONT, 59, "EBFONT")                                                                                             \
    X(NOSTR, 60, "ENOSTR")                                                                                             \
    X(NODATA, 61, "ENODATA")                                                                                           \
    X(TIME, 62, "ETIME")                                                                                               \
    X(NOSR, 63, "ENOSR")                                                                                               \
    X(NONET, 64, "ENONET")                                                                                             \
    X(NOPKG, 65, "ENOPKG")                                                                                             \
    X(REMOTE, 66, "EREMOTE")                                                                                           \
    X(NOLINK, 67, "ENOLINK")                                                                                           \
    X(ADV, 68, "EADV")                                                                                                 \
    X(SRMNT, 69, "ESRMNT")                                                                                             \
    X(COMM, 70, "ECOMM")                                                                                               \
    X(PROTO, 71, "EPROTO")                                                                                             \
    X(MULTIHOP, 72, "EMULTIHOP")                                                                                       \
    X(DOTDOT, 73, "EDOTDOT")                                                                                           \
    X(BADMSG, 74, "EBADMSG")                                                                                           \
    X(OVERFLOW, 75, "EOVERFLOW")                                                                                       \
    X(NOTUNIQ, 76, "ENOTUNIQ")                                                                                         \
    X(BADFD, 77, "EBADFD")                                                                                             \
    X(REMCHG, 78, "EREMCHG")                                                                                           \
    X(LIBACC, 79, "ELIBACC")                                                                                           \
    X(LIBBAD, 80, "ELIBBAD")                                                                                           \
    X(LIBSCN, 81, "ELIBSCN")                                                                                           \
    X(LIBMAX, 82, "ELIBMAX")                                                                                           \
    X(LIBEXEC, 83, "ELIBEXEC")                                                                                         \
    X(ILSEQ, 84, "EILSEQ")                                                                                             \
    X(RESTART, 85, "ERESTART")                                                                                         \
    X(STRPIPE, 86, "ESTRPIPE")                                                                                         \
    X(USERS, 87, "EUSERS")                                                                                             \
    X(NOTSOCK, 88, "ENOTSOCK")                                                                                         \
    X(DESTADDRREQ, 89, "EDESTADDRREQ")                                                                                 \
    X(MSGSIZE, 90, "EMSGSIZE")                                                                                         \
    X(PROTOTYPE, 91, "EPROTOTYPE")                                                                                     \
    X(NOPROTOOPT, 92, "ENOPROTOOPT")                                                                                   \
    X(PROTONOSUPPORT, 93, "EPROTONOSUPPORT")                                                                           \
    X(SOCKTNOSUPPORT, 94, "ESOCKTNOSUPPORT")                                                                           \
    X(OPNOTSUPP, 95, "EOPNOTSUPP")                                                                                     \
    X(PFNOSUPPORT, 96, "EPFNOSUPPORT")                                                                                 \
    X(AFNOSUPPORT, 97, "EAFNOSUPPORT")                                                                                 \
    X(ADDRINUSE, 98, "EADDRINUSE")                                                                                     \
    X(ADDRNOTAVAIL, 99, "EADDRNOTAVAIL")                                                                               \
    X(NETDOWN, 100, "ENETDOWN")                                                                                        \
    X(NETUNREACH, 101, "ENETUNREACH")                                                                                  \
    X(NETRESET, 102, "ENETRESET")                                                                                      \
    X(CONNABORTED, 103, "ECONNABORTED")                                                                                \
    X(CONNRESET, 104, "ECONNRESET")                                                                                    \
    X(NOBUFS, 105, "ENOBUFS")                                                                                          \
    X(ISCONN, 106, "EISCONN")                                                                                          \
    X(NOTCONN, 107, "ENOTCONN")                                                                                        \
    X(SHUTDOWN, 108, "ESHUTDOWN")                                                                                      \
    X(TOOMANYREFS, 109, "ETOOMANYREFS")                                                                                \
    X(TIMEDOUT, 110, "ETIMEDOUT")                                                                                      \
    X(CONNREFUSED, 111, "ECONNREFUSED")                                                                                \
    X(HOSTDOWN, 112, "EHOSTDOWN")                                                                                      \
    X(HOSTUNREACH, 113, "EHOSTUNREACH")                                                                                \
    X(ALREADY, 114, "EALREADY")                                                                                        \
    X(INPROGRESS, 115, "EINPROGRESS")                                                                                  \
    X(STALE, 116, "ESTALE")                                                                                            \
    X(UCLEAN, 117, "EUCLEAN")                                                                                          \
    X(NOTNAM, 118, "ENOTNAM")                                                                                          \
    X(NAVAIL, 119, "ENAVAIL")                                                                                          \
    X(ISNAM, 120, "EISNAM")                                                                                            \
    X(REMOTEIO, 121, "EREMOTEIO")                                                                                      \
    X(DQUOT, 122, "EDQUOT")                                                                                            \
    X(NOMEDIUM, 123, "ENOMEDIUM")                                                                                      \
    X(MEDIUMTYPE, 124, "EMEDIUMTYPE")                                                                                  \
    X(CANCELED, 125, "ECANCELED")                                                                                      \
    X(NOKEY, 126, "ENOKEY")                                                                                            \
    X(KEYEXPIRED, 127, "EKEYEXPIRED")                                                                                  \
    X(KEYREVOKED, 128, "EKEYREVOKED")                                                                                  \
    X(KEYREJECTED, 129, "EKEYREJECTED")                                                                                \
    X(OWNERDEAD, 130, "EOWNERDEAD")                                                                                    \
    X(NOTRECOVERABLE, 131, "ENOTRECOVERABLE")                                                                          \
    X(RFKILL, 132, "ERFKILL")                                                                                          \
    X(HWPOISON, 133, "EHWPOISON")

enum class Errno : int32_t {
#define TESSERA_ERRNO_MEMBER(member, value, name) member = value,
    TESSERA_ERRNO_LIST(TESSERA_ERRNO_MEMBER)
#undef TESSERA_ERRNO_MEMBER
};

// The symbolic name of an errno ("EINVAL"), or "E?" for one not listed.
const char* errno_name(Errno code);

class [[nodiscard]] Error {
public:
    constexpr explicit Error(Errno code, const char* what = nullptr)
        : m_code(code)
        , m_what(what)
    {
    }

    constexpr Errno code() const { return m_code; }
    // A short static description of what failed, or nullptr.
    constexpr const char* what() const { return m_what; }
    constexpr bool operator==(const Error& other) const { return m_code == other.m_code; }

private:
    Errno m_code;
    const char* m_what;
};

} // namespace tessera
