#pragma once
// LockClaims: where the LockManager also takes a master-scoped lock when
// several masters share one database (docs/multimaster.md, "Locks"). The
// manager stays the arbiter on its master (FIFO, all-or-nothing, the
// deadlock rule); before it grants a request whose owner's hold on a
// master-scoped lock rises, it asks here, and the database decides across
// masters. The implementation is master/cluster/shared_locks.hpp; a master
// alone on its database has none (the manager's memory is enough).
#include <optional>
#include <string>
#include <vector>

#include "master/db/records.hpp"

namespace bb {

class LockClaims {
 public:
  // Why a claim was refused: the lock another master holds, and a line for
  // status ("held on master ci2 by build b #3").
  struct Refusal {
    std::string lock;
    std::string why;
  };

  virtual ~LockClaims() = default;
  // Raises every hold in `changes` (all in one transaction): nullopt when
  // all are held now, else which lock was refused and why (nothing held).
  // A database failure is a refusal too (logged; the request waits and is
  // tried again).
  virtual std::optional<Refusal> claim(const std::vector<db::LockHoldChange>& changes) = 0;
  // Lowers every hold in `changes` and tells the other masters. Never
  // throws: a failure is logged and tried again later.
  virtual void release(const std::vector<db::LockHoldChange>& changes) = 0;
  // The holds of the other masters, for status (by lock, master, since);
  // empty if the database cannot be read.
  virtual std::vector<db::LockHolderRecord> elsewhere() = 0;
};

}  // namespace bb
