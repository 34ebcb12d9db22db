#include <net/rdma/lib/roce_counters.h>
#include <net/rdma/lib/verbs.h>

namespace tessera::rdma {

const char* drop_reason_name(DropReason reason)
{
    switch (reason) {
    case DropReason::None:
        return "none";
    case DropReason::IpMalformed:
        return "ip_malformed";
    case DropReason::NotUdp:
        return "not_udp";
    case DropReason::UdpMalformed:
        return "udp_malformed";
    case DropReason::WrongPort:
        return "wrong_port";
    case DropReason::WrongDestination:
        return "wrong_destination";
    case DropReason::Short:
        return "short";
    case DropReason::BadIcrc:
        return "bad_icrc";
    case DropReason::UnknownOpcode:
        return "unknown_opcode";
    case DropReason::BadHeader:
        return "bad_header";
    case DropReason::BadPkey:
        return "bad_pkey";
    case DropReason::UnknownQpn:
        return "unknown_qpn";
    case DropReason::WrongTransport:
        return "wrong_transport";
    case DropReason::BadState:
        return "bad_state";
    case DropReason::WrongSource:
        return "wrong_source";
    case DropReason::BadQkey:
        return "bad_qkey";
    case DropReason::NoReceiveWqe:
        return "no_receive_wqe";
    case DropReason::StaleResponse:
        return "stale_response";
    case DropReason::BadResponse:
        return "bad_response";
    case DropReason::Count:
        break;
    }
    return "?";
}

const char* wc_status_name(WcStatus status)
{
    switch (status) {
    case WcStatus::Success:
        return "SUCCESS";
    case WcStatus::LocLenErr:
        return "LOC_LEN_ERR";
    case WcStatus::LocQpOpErr:
        return "LOC_QP_OP_ERR";
    case WcStatus::LocProtErr:
        return "LOC_PROT_ERR";
    case WcStatus::WrFlushErr:
        return "WR_FLUSH_ERR";
    case WcStatus::BadRespErr:
        return "BAD_RESP_ERR";
    case WcStatus::LocAccessErr:
        return "LOC_ACCESS_ERR";
    case WcStatus::RemInvReqErr:
        return "REM_INV_REQ_ERR";
    case WcStatus::RemAccessErr:
        return "REM_ACCESS_ERR";
    case WcStatus::RemOpErr:
        return "REM_OP_ERR";
    case WcStatus::RetryExcErr:
        return "RETRY_EXC_ERR";
    case WcStatus::RnrRetryExcErr:
        return "RNR_RETRY_EXC_ERR";
    }
    return "?";
}

} // namespace tessera::rdma
