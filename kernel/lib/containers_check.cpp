// Compiles every container of kernel/lib with the kernel's flags (this file
// is part of the kernel build, and of the host library). The exercise is an
// unused static function: the compiler instantiates and checks each template
// it uses, then emits no code for it, so the kernel carries nothing extra.
// Behaviour is tested on the host (test/host/*_test.cpp).
#include <kernel/lib/byte_ring_buffer.h>
#include <kernel/lib/intrusive_hash_table.h>
#include <kernel/lib/intrusive_list.h>
#include <kernel/lib/intrusive_tree.h>
#include <kernel/lib/nonnull_ref_ptr.h>
#include <kernel/lib/optional.h>
#include <kernel/lib/own_ptr.h>
#include <kernel/lib/ref_counted.h>
#include <kernel/lib/ref_ptr.h>
#include <kernel/lib/ring_buffer.h>
#include <kernel/lib/span.h>
#include <kernel/lib/vector.h>

namespace tessera {
namespace {

struct Sample : RefCounted<Sample> {
    explicit Sample(uintptr_t start)
        : start(start)
    {
    }
    uintptr_t start;
    IntrusiveListNode list_node;
    IntrusiveHashNode hash_node;
    IntrusiveTreeNode tree_node;
};

struct SampleKey {
    using Key = uintptr_t;
    static Key key_of(const Sample& sample) { return sample.start; }
    static uint64_t hash(Key key) { return key; }
    static bool contains(const Sample& sample, Key key) { return key < sample.start + 0x1000; }
};

static_assert(sizeof(OwnPtr<Sample>) == sizeof(void*));
static_assert(sizeof(RefPtr<Sample>) == sizeof(void*));
static_assert(sizeof(NonnullRefPtr<Sample>) == sizeof(void*));
static_assert(sizeof(Span<uint8_t>) == 2 * sizeof(void*));
static_assert(kstd::is_trivially_copyable_v<Span<const uint8_t>>);
static_assert(!kstd::is_copy_constructible_v<OwnPtr<Sample>>);
static_assert(!kstd::is_copy_constructible_v<Vector<int>>);
static_assert(!kstd::is_copy_constructible_v<Optional<OwnPtr<Sample>>>);
static_assert(kstd::is_move_constructible_v<Optional<OwnPtr<Sample>>>);

// The static analyzer loses track of which ErrorOr union member is live on
// TRY's error path and reports a garbage read / leak that cannot happen
// (host tests under ASan cover these paths), hence the suppression.
// NOLINTBEGIN(clang-analyzer-core.UndefinedBinaryOperatorResult,clang-analyzer-cplusplus.NewDeleteLeaks)
[[maybe_unused]] ErrorOr<void> exercise()
{
    auto own = TRY(try_make_own<Sample>(0x1000));
    auto shared = TRY(try_make_ref_counted<Sample>(0x2000));
    RefPtr<Sample> maybe = shared;
    NonnullRefPtr<Sample> again = maybe.release_nonnull();

    Vector<OwnPtr<Sample>> owners;
    TRY(owners.try_append(kstd::move(own)));
    TRY(owners.try_reserve(8));
    owners.remove(0);
    Vector<uint32_t> numbers;
    TRY(numbers.try_resize(4));
    auto copy = TRY(numbers.try_clone());
    Span<const uint8_t> bytes = copy.span().as_bytes();
    auto tail = TRY(bytes.try_slice(2));
    Optional<uint8_t> first = tail.is_empty() ? Optional<uint8_t>() : Optional<uint8_t>(tail[0]);

    IntrusiveList<Sample, &Sample::list_node> list;
    list.append(*shared);
    for (auto& sample : list)
        list.remove(sample);

    IntrusiveHashBucket buckets[4];
    IntrusiveHashTable<Sample, &Sample::hash_node, SampleKey> table { buckets };
    TRY(table.try_insert(*shared));
    for (auto& sample : table)
        table.remove(sample);

    IntrusiveTree<Sample, &Sample::tree_node, SampleKey> tree;
    TRY(tree.try_insert(*shared));
    VERIFY(tree.check_invariants());
    VERIFY(tree.find_containing(0x2fff) == shared.ptr());
    (void)tree.lower_bound(0);
    (void)tree.upper_bound(0);
    for (auto& sample : tree)
        tree.remove(sample);

    RingBuffer<NonnullRefPtr<Sample>, 4> ring;
    TRY(ring.try_push(again));
    ring.push_overwriting(again);
    auto popped = ring.pop();
    ByteRingBuffer<256> log;
    log.write("x", 1);
    uint8_t out[4];
    (void)log.read(Span<uint8_t>(out));
    (void)first.value_or(0);
    return {};
}
// NOLINTEND(clang-analyzer-core.UndefinedBinaryOperatorResult,clang-analyzer-cplusplus.NewDeleteLeaks)

} // namespace
} // namespace tessera
