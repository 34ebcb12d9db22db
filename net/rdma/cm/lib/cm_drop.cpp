#include <net/rdma/cm/lib/cm_drop.h>

namespace tessera::rdma::cm {

const char* cm_drop_name(CmDrop drop)
{
    switch (drop) {
    case CmDrop::None:
        return "none";
    case CmDrop::WrongLength:
        return "wrong length";
    case CmDrop::BadBaseVersion:
        return "bad base version";
    case CmDrop::NotCmClass:
        return "not the CM class";
    case CmDrop::BadClassVersion:
        return "bad class version";
    case CmDrop::BadMethod:
        return "bad method";
    case CmDrop::UnknownAttribute:
        return "unknown attribute";
    case CmDrop::UnsupportedAttribute:
        return "unsupported attribute";
    case CmDrop::BadField:
        return "bad field";
    case CmDrop::UnknownConnection:
        return "unknown connection";
    case CmDrop::WrongState:
        return "wrong state";
    case CmDrop::WrongQpn:
        return "wrong QPN";
    case CmDrop::NoResources:
        return "no resources";
    case CmDrop::Count:
        break;
    }
    return "?";
}

} // namespace tessera::rdma::cm
