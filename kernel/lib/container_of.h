#pragma once
// container_of for intrusive containers: from a node embedded in a T (as
// `T::*member`) back to the T.

#include <kernel/lib/kstd.h>

namespace tessera {

template<typename T, typename Node, Node T::*member>
T* container_of(Node* node)
{
    // The node's offset inside T, computed without a live T.
    alignas(T) static constexpr char dummy[sizeof(T)] {};
    auto offset = reinterpret_cast<const char*>(&(reinterpret_cast<const T*>(dummy)->*member)) - dummy;
    return reinterpret_cast<T*>(reinterpret_cast<char*>(node) - offset);
}

} // namespace tessera
