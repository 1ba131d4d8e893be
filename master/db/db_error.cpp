#include "master/db/db_error.hpp"

namespace bb {

const char* toString(DbErrorKind kind) {
  switch (kind) {
    case DbErrorKind::DiskFull: return "disk full";
    case DbErrorKind::Busy: return "busy";
    case DbErrorKind::Corrupt: return "corrupt";
    case DbErrorKind::Constraint: return "constraint";
    case DbErrorKind::ConnectionLost: return "connection lost";
    case DbErrorKind::Other: return "other";
  }
  return "other";
}

}  // namespace bb
