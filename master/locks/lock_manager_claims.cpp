// The LockManager's side of master-scoped locks shared by several masters
// (lock_claims.hpp): asking the database before a grant that raises an
// owner's hold, and telling it when a release lowers one.
#include <algorithm>
#include <exception>

#include "master/locks/lock_manager.hpp"

namespace bb {

namespace {

db::LockHold holdFor(LockMode mode) {
  return mode == LockMode::Exclusive ? db::LockHold::Exclusive : db::LockHold::Counting;
}

}  // namespace

std::vector<db::LockHold> LockManager::masterHolds(const std::string& owner,
                                                   const std::vector<WantedLock>& wanted) const {
  std::vector<db::LockHold> out;
  for (const WantedLock& w : wanted) {
    auto inst = instances_.find(w.instance);
    if (!w.instance.slave.empty() || inst == instances_.end()) {
      out.push_back(db::LockHold::None);
    } else if (inst->second.heldBy(owner, LockMode::Exclusive)) {
      out.push_back(db::LockHold::Exclusive);
    } else if (inst->second.heldBy(owner, LockMode::Counting)) {
      out.push_back(db::LockHold::Counting);
    } else {
      out.push_back(db::LockHold::None);
    }
  }
  return out;
}

bool LockManager::busyElsewhere(const WantedLock& w, const std::string& owner) const {
  auto refused = remoteBusy_.find(w.instance);
  if (refused == remoteBusy_.end()) return false;
  auto inst = instances_.find(w.instance);
  if (inst != instances_.end() && inst->second.heldBy(owner, w.mode)) return false;
  // A refused counting claim means no slot is free: an exclusive one needs
  // more still. A refused exclusive claim says nothing of counting ones.
  return refused->second.mode == LockMode::Counting || w.mode == LockMode::Exclusive;
}

bool LockManager::tryHold(Request& r) {
  if (claims_) {
    const std::vector<db::LockHold> now = masterHolds(r.owner, r.wanted);
    std::vector<db::LockHoldChange> changes;
    for (std::size_t i = 0; i < r.wanted.size(); ++i) {
      const WantedLock& w = r.wanted[i];
      if (!w.instance.slave.empty() || holdFor(w.mode) <= now[i]) continue;
      changes.push_back({w.instance.lock, r.owner, limitOf(w.instance), now[i], holdFor(w.mode)});
    }
    // One order for every master: two claims of the same locks never wait
    // for each other's rows in opposite orders.
    std::sort(changes.begin(), changes.end(),
              [](const db::LockHoldChange& a, const db::LockHoldChange& b) { return a.lock < b.lock; });
    if (!changes.empty()) {
      std::optional<LockClaims::Refusal> refused;
      try {
        refused = claims_->claim(changes);
      } catch (const std::exception& e) {
        refused = LockClaims::Refusal{changes.front().lock,
                                      std::string("the database could not be asked (") + e.what() + ")"};
      }
      if (refused) {
        auto which = std::find_if(changes.begin(), changes.end(),
                                  [&](const db::LockHoldChange& c) { return c.lock == refused->lock; });
        const LockMode mode = which != changes.end() && which->to == db::LockHold::Exclusive
                                  ? LockMode::Exclusive
                                  : LockMode::Counting;
        remoteBusy_[LockInstanceId{refused->lock, ""}] = {mode, refused->why};
        return false;
      }
    }
  }
  hold(r);
  return true;
}

void LockManager::releaseClaims(const std::string& owner, const std::vector<WantedLock>& wanted,
                                const std::vector<db::LockHold>& before) {
  if (!claims_) return;
  const std::vector<db::LockHold> after = masterHolds(owner, wanted);
  std::vector<db::LockHoldChange> changes;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    if (after[i] >= before[i]) continue;
    changes.push_back({wanted[i].instance.lock, owner, limitOf(wanted[i].instance), before[i], after[i]});
    // A slot freed here may admit a waiter here: ask the database again.
    remoteBusy_.erase(wanted[i].instance);
  }
  if (!changes.empty()) claims_->release(changes);
}

bool LockManager::retryClaims() {
  if (remoteBusy_.empty()) return false;
  remoteBusy_.clear();
  runCallbacks(grantWaiters(0), true);
  return true;
}

std::vector<db::LockHolderRecord> LockManager::holdersElsewhere() const {
  return claims_ ? claims_->elsewhere() : std::vector<db::LockHolderRecord>{};
}

}  // namespace bb
