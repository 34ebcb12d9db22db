#pragma once
// VERIFY(): an invariant that holds in every build. On failure the kernel
// panics with the expression and location; a host build aborts.

namespace tessera {
[[noreturn]] void verify_failed(const char* expression, const char* file, int line);
}

#define VERIFY(expression)                                                                                             \
    do {                                                                                                               \
        if (!(expression)) [[unlikely]]                                                                                \
            ::tessera::verify_failed(#expression, __FILE__, __LINE__);                                                 \
    } while (0)

#define VERIFY_NOT_REACHED() ::tessera::verify_failed("not reached", __FILE__, __LINE__)
