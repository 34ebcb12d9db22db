// The undefined-behaviour sanitizer's runtime, for the UBSan kernel
// (`make ubsan`, build/ubsan/tessera.iso). The compiler calls one
// __ubsan_handle_* function per kind of check that failed, passing a
// description it laid out in rodata; we print
// `UBSAN: <kind> at file:line:col` and the details, then panic, so the run
// fails. Built with -fno-sanitize-recover=all, the compiler calls the
// *_abort variant; both names are defined and neither returns.
//
// The layouts below are the compiler's ABI (GCC's libsanitizer and LLVM's
// compiler-rt use the same); only what we print is declared. The file is in
// every kernel: outside the UBSan build nothing calls it.
#include <kernel/console/console.h>
#include <kernel/console/panic.h>
#include <kernel/lib/kstd.h>

namespace tessera {

namespace {

struct SourceLocation {
    const char* file;
    uint32_t line;
    uint32_t column;
};

// kind 0 is an integer (info: bit 0 signed, bits 1+ log2 of the bit width),
// kind 1 a float, 0xffff anything else; name is the type as written.
struct TypeDescriptor {
    uint16_t kind;
    uint16_t info;
    char name[1];
};

struct TypeMismatchData {
    SourceLocation location;
    const TypeDescriptor* type;
    uint8_t log_alignment;
    uint8_t type_check_kind;
};

struct OverflowData {
    SourceLocation location;
    const TypeDescriptor* type;
};

struct ShiftOutOfBoundsData {
    SourceLocation location;
    const TypeDescriptor* lhs_type;
    const TypeDescriptor* rhs_type;
};

struct OutOfBoundsData {
    SourceLocation location;
    const TypeDescriptor* array_type;
    const TypeDescriptor* index_type;
};

struct LocationOnlyData {
    SourceLocation location;
};

struct InvalidValueData {
    SourceLocation location;
    const TypeDescriptor* type;
};

struct NonNullArgData {
    SourceLocation location;
    SourceLocation attribute_location;
    int argument_index;
};

struct NonNullReturnData {
    SourceLocation attribute_location;
};

struct InvalidBuiltinData {
    SourceLocation location;
    uint8_t kind;
};

using ValueHandle = uintptr_t;

// Set by the first report: a check failing inside the report itself (the
// console, the formatter) must not recurse.
constinit kstd::atomic<bool> s_reporting { false };

bool is_signed_integer(const TypeDescriptor* type) { return type->kind == 0 && (type->info & 1) != 0; }
unsigned bit_width(const TypeDescriptor* type) { return 1u << (type->info >> 1); }

// Integers of up to 64 bits; wider values (passed by pointer) are shown by
// their low 64 bits.
uint64_t raw_bits(const TypeDescriptor* type, ValueHandle value)
{
    if (type->kind == 0 && bit_width(type) > 64)
        return value != 0 ? *reinterpret_cast<const uint64_t*>(value) : 0;
    return value;
}

void print_value(const char* label, const TypeDescriptor* type, ValueHandle value)
{
    if (type->kind != 0) {
        console_print_unlocked("  %s: a %s\n", label, type->name);
        return;
    }
    uint64_t bits = raw_bits(type, value);
    if (is_signed_integer(type)) {
        unsigned width = bit_width(type);
        int64_t signed_value
            = width >= 64 ? static_cast<int64_t>(bits) : static_cast<int64_t>(bits << (64 - width)) >> (64 - width);
        console_print_unlocked("  %s: %ld (%s)\n", label, signed_value, type->name);
    } else {
        console_print_unlocked("  %s: %lu (%s)\n", label, bits, type->name);
    }
}

// Prints the headline; false if a report is already under way.
bool begin_report(const char* kind, const SourceLocation& location)
{
    if (s_reporting.exchange(true))
        return false;
    console_print_unlocked("UBSAN: %s at %s:%u:%u\n", kind, location.file != nullptr ? location.file : "?",
        location.line, location.column);
    return true;
}

[[noreturn]] void end_report(const char* kind) { panic("undefined behaviour: %s", kind); }

[[noreturn]] void report_location_only(const char* kind, const SourceLocation& location)
{
    begin_report(kind, location);
    end_report(kind);
}

const char* type_check_name(uint8_t kind)
{
    // The order of the compiler's TypeCheckKind enumeration.
    static constexpr const char* names[] = { "load of", "store to", "reference binding to", "member access within",
        "member call on", "constructor call on", "downcast of", "downcast of", "upcast of", "cast to virtual base of",
        "_Nonnull binding to", "dynamic operation on" };
    return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "access to";
}

[[noreturn]] void type_mismatch(const TypeMismatchData* data, ValueHandle pointer)
{
    uintptr_t alignment = uintptr_t(1) << data->log_alignment;
    const char* kind = pointer == 0                                 ? "null pointer"
        : (data->log_alignment != 0 && (pointer & (alignment - 1))) ? "misaligned access"
                                                                    : "object too small";
    if (begin_report(kind, data->location)) {
        console_print_unlocked(
            "  %s address 0x%lx of type %s", type_check_name(data->type_check_kind), pointer, data->type->name);
        if (data->log_alignment != 0)
            console_print_unlocked(", which requires %lu-byte alignment", alignment);
        console_print_unlocked("\n");
    }
    end_report(kind);
}

[[noreturn]] void arithmetic_overflow(
    const char* kind, const char* operation, const OverflowData* data, ValueHandle lhs, ValueHandle rhs)
{
    if (begin_report(kind, data->location)) {
        console_print_unlocked("  %s of two %s overflows\n", operation, data->type->name);
        print_value("lhs", data->type, lhs);
        print_value("rhs", data->type, rhs);
    }
    end_report(kind);
}

} // namespace

} // namespace tessera

using namespace tessera;

// Each check has a recoverable entry point and an _abort one; ours all end
// the run, so both names lead to the same code.
#define UBSAN_HANDLER(name, params, args)                                                                              \
    extern "C" [[noreturn]] void __ubsan_handle_##name##_impl params;                                                  \
    extern "C" [[noreturn]] void __ubsan_handle_##name params { __ubsan_handle_##name##_impl args; }                   \
    extern "C" [[noreturn]] void __ubsan_handle_##name##_abort params { __ubsan_handle_##name##_impl args; }           \
    extern "C" [[noreturn]] void __ubsan_handle_##name##_impl params

UBSAN_HANDLER(type_mismatch_v1, (const TypeMismatchData* data, ValueHandle pointer), (data, pointer))
{
    type_mismatch(data, pointer);
}

UBSAN_HANDLER(add_overflow, (const OverflowData* data, ValueHandle lhs, ValueHandle rhs), (data, lhs, rhs))
{
    arithmetic_overflow("signed integer overflow", "addition", data, lhs, rhs);
}

UBSAN_HANDLER(sub_overflow, (const OverflowData* data, ValueHandle lhs, ValueHandle rhs), (data, lhs, rhs))
{
    arithmetic_overflow("signed integer overflow", "subtraction", data, lhs, rhs);
}

UBSAN_HANDLER(mul_overflow, (const OverflowData* data, ValueHandle lhs, ValueHandle rhs), (data, lhs, rhs))
{
    arithmetic_overflow("signed integer overflow", "multiplication", data, lhs, rhs);
}

UBSAN_HANDLER(divrem_overflow, (const OverflowData* data, ValueHandle lhs, ValueHandle rhs), (data, lhs, rhs))
{
    const char* kind = raw_bits(data->type, rhs) == 0 ? "division by zero" : "division overflow";
    if (begin_report(kind, data->location)) {
        print_value("dividend", data->type, lhs);
        print_value("divisor", data->type, rhs);
    }
    end_report(kind);
}

UBSAN_HANDLER(negate_overflow, (const OverflowData* data, ValueHandle old_value), (data, old_value))
{
    const char* kind = "signed integer overflow";
    if (begin_report(kind, data->location))
        print_value("negation of", data->type, old_value);
    end_report(kind);
}

UBSAN_HANDLER(
    shift_out_of_bounds, (const ShiftOutOfBoundsData* data, ValueHandle lhs, ValueHandle rhs), (data, lhs, rhs))
{
    const char* kind = "shift out of bounds";
    if (begin_report(kind, data->location)) {
        print_value("shifted", data->lhs_type, lhs);
        print_value("by", data->rhs_type, rhs);
    }
    end_report(kind);
}

UBSAN_HANDLER(out_of_bounds, (const OutOfBoundsData* data, ValueHandle index), (data, index))
{
    const char* kind = "index out of bounds";
    if (begin_report(kind, data->location)) {
        console_print_unlocked("  array type %s\n", data->array_type->name);
        print_value("index", data->index_type, index);
    }
    end_report(kind);
}

UBSAN_HANDLER(load_invalid_value, (const InvalidValueData* data, ValueHandle value), (data, value))
{
    const char* kind = "invalid value (bool or enum)";
    if (begin_report(kind, data->location))
        print_value("loaded", data->type, value);
    end_report(kind);
}

UBSAN_HANDLER(vla_bound_not_positive, (const OverflowData* data, ValueHandle bound), (data, bound))
{
    const char* kind = "variable-length array bound not positive";
    if (begin_report(kind, data->location))
        print_value("bound", data->type, bound);
    end_report(kind);
}

UBSAN_HANDLER(nonnull_arg, (const NonNullArgData* data), (data))
{
    const char* kind = "null passed as a nonnull argument";
    if (begin_report(kind, data->location))
        console_print_unlocked("  argument %d, declared nonnull at %s:%u\n", data->argument_index,
            data->attribute_location.file, data->attribute_location.line);
    end_report(kind);
}

UBSAN_HANDLER(nonnull_return_v1, (const NonNullReturnData* data, const SourceLocation* location), (data, location))
{
    const char* kind = "null returned from a returns_nonnull function";
    if (begin_report(kind, *location))
        console_print_unlocked(
            "  declared returns_nonnull at %s:%u\n", data->attribute_location.file, data->attribute_location.line);
    end_report(kind);
}

UBSAN_HANDLER(
    pointer_overflow, (const LocationOnlyData* data, ValueHandle base, ValueHandle result), (data, base, result))
{
    const char* kind = "pointer overflow";
    if (begin_report(kind, data->location))
        console_print_unlocked("  0x%lx became 0x%lx\n", base, result);
    end_report(kind);
}

UBSAN_HANDLER(invalid_builtin, (const InvalidBuiltinData* data), (data))
{
    report_location_only("zero passed to ctz/clz", data->location);
}

// These two have no _abort variant: they never return in any runtime.
extern "C" [[noreturn]] void __ubsan_handle_builtin_unreachable(const LocationOnlyData* data)
{
    report_location_only("__builtin_unreachable reached", data->location);
}

extern "C" [[noreturn]] void __ubsan_handle_missing_return(const LocationOnlyData* data)
{
    report_location_only("end of a value-returning function reached", data->location);
}
