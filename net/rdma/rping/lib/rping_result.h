#pragma once
// How an rping session ended, for the caller to print (`rping: PASS
// count=N size=S` / `rping: FAIL <reason>`) and for tests to assert on.

#include <net/rdma/lib/verbs.h>

namespace tessera::rdma::rping {

// rping.c: RPING_MIN_BUFSIZE is sizeof("0x7fffffff") + sizeof("rdma-ping-%d: ")
// = 11 + 15 (INT_MAX stringified through two macro levels); -S must also be
// at most RPING_BUFSIZE - 1.
inline constexpr uint32_t rping_min_size = 26;
inline constexpr uint32_t rping_max_size = 65535;

enum class RpingStatus : uint8_t {
    Running,
    Pass,
    Fail,
};

struct RpingResult {
    RpingStatus status { RpingStatus::Running };
    // Fail: a fixed text ("bogus data", "data mismatch", "completion error",
    // ...); never owned, always a literal.
    const char* reason { "" };
    // Fail with reason "completion error": which work request and its status.
    bool has_completion { false };
    WcOpcode completion_opcode { WcOpcode::Send };
    WcStatus completion_status { WcStatus::Success };
    uint32_t pings { 0 }; // completed pings
    uint32_t size { 0 }; // the ping size (the client's -S)
};

} // namespace tessera::rdma::rping
