#include <kernel/lib/string.h>
#include <net/inet/lib/byte_order.h>
#include <net/inet/lib/icmp.h>
#include <net/inet/lib/internet_checksum.h>

namespace tessera {

ErrorOr<IcmpEcho> decode_icmp_echo(Span<const uint8_t> message)
{
    if (message.size() < icmp_echo_header_size)
        return Error(Errno::INVAL, "icmp: message shorter than the 8-byte echo header");
    if (internet_checksum(message) != 0)
        return Error(Errno::INVAL, "icmp: bad checksum");
    uint8_t type = message[0];
    if (type != icmp_type_echo_request && type != icmp_type_echo_reply)
        return Error(Errno::NOSYS, "icmp: type other than echo is not supported");
    if (message[1] != 0)
        return Error(Errno::INVAL, "icmp: echo with a non-zero code");
    IcmpEcho result;
    result.type = type;
    result.identifier = load_be16(message, 4);
    result.sequence = load_be16(message, 6);
    result.data = message.slice(icmp_echo_header_size);
    return result;
}

ErrorOr<size_t> build_icmp_echo_reply(Span<const uint8_t> request, Span<uint8_t> out)
{
    IcmpEcho echo = TRY(decode_icmp_echo(request));
    if (echo.type != icmp_type_echo_request)
        return Error(Errno::INVAL, "icmp: not an echo request");
    if (out.size() < request.size())
        return Error(Errno::RANGE, "icmp: reply buffer shorter than the request");
    if (out.data() != request.data())
        memmove(out.data(), request.data(), request.size());
    Span<uint8_t> reply = out.first(request.size());
    reply[0] = icmp_type_echo_reply;
    reply[1] = 0;
    store_be16(reply, 2, 0);
    store_be16(reply, 2, internet_checksum(reply));
    return reply.size();
}

} // namespace tessera
