#pragma once
// A test type that counts its own lifetime events, so container tests can
// check that every constructed object is destroyed exactly once.

#include <kernel/lib/kstd.h>

namespace tessera::test {

struct LifeCounts {
    int constructed { 0 };
    int copied { 0 };
    int moved { 0 };
    int destroyed { 0 };
    int alive() const { return constructed + copied + moved - destroyed; }
};

class Tracked {
public:
    Tracked(LifeCounts& counts, int value)
        : m_counts(&counts)
        , m_value(value)
    {
        ++m_counts->constructed;
    }
    Tracked(const Tracked& other)
        : m_counts(other.m_counts)
        , m_value(other.m_value)
    {
        ++m_counts->copied;
    }
    Tracked(Tracked&& other)
        : m_counts(other.m_counts)
        , m_value(kstd::exchange(other.m_value, -1))
    {
        ++m_counts->moved;
    }
    Tracked& operator=(const Tracked& other)
    {
        m_value = other.m_value;
        return *this;
    }
    Tracked& operator=(Tracked&& other)
    {
        m_value = kstd::exchange(other.m_value, -1);
        return *this;
    }
    ~Tracked()
    {
        ++m_counts->destroyed;
        m_value = -2;
    }

    int value() const { return m_value; }
    bool operator==(const Tracked& other) const { return m_value == other.m_value; }

private:
    LifeCounts* m_counts;
    int m_value;
};

} // namespace tessera::test
