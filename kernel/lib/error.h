#pragma once
// Errors are Linux errno values, so that the syscall boundary needs no
// translation table and a remote reply's status is the errno itself.

#include <kernel/lib/kstd.h>

namespace tessera {

// Members drop the leading E so that they never collide with <errno.h>
// macros in host builds: Errno::INVAL is EINVAL (22).
enum class Errno : int32_t {
    PERM = 1,
    NOENT = 2,
    SRCH = 3,
    INTR = 4,
    IO = 5,
    NXIO = 6,
    ARG_LIST_TOO_BIG = 7, // E2BIG
    NOEXEC = 8,
    BADF = 9,
    AGAIN = 11,
    NOMEM = 12,
    ACCES = 13,
    FAULT = 14,
    BUSY = 16,
    EXIST = 17,
    NODEV = 19,
    INVAL = 22,
    NOSPC = 28,
    RANGE = 34,
    NAMETOOLONG = 36,
    NOSYS = 38,
    OVERFLOW = 75,
    MSGSIZE = 90,
    PROTO = 71,
    TIMEDOUT = 110,
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
